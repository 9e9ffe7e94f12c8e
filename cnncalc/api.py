"""The library's entry points, for scripts: load a network, build its graph, analyse it.

    from cnncalc.api import load, analyze
    analysis = analyze(load("resnet50"))

This module is the public face of :mod:`cnncalc.analysis.pipeline`; nothing inside cnncalc
imports it.
"""

from cnncalc.analysis.pipeline import (
    MAX_BATCH,
    analyze,
    analyze_each,
    build,
    compare_conventions,
    explain,
    explain_each,
    input_shape,
    load,
    loads,
    memory,
    training,
    variants,
)

__all__ = [
    "MAX_BATCH",
    "analyze",
    "analyze_each",
    "build",
    "compare_conventions",
    "explain",
    "explain_each",
    "input_shape",
    "load",
    "loads",
    "memory",
    "training",
    "variants",
]
