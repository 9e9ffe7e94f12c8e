"""The conventions' names and the transposed-conv counts, without the rules behind them.

The command line offers these as ``--convention`` and ``--deconv-count`` choices, so that
building it imports none of the counting rules (issue 11: start-up). :mod:`presets`
defines one convention for each name, in this order (tests/test_imports.py checks it).
"""

from __future__ import annotations

CONVENTION_NAMES: tuple[str, ...] = (
    "macs",
    "exact",
    "nndl",
    "lenet",
    "torch",
    "fvcore",
    "ptflops",
    "ptflops-aten",
    "thop",
    "torchinfo",
    "torchscan",
    "calflops",
)
DECONV_COUNTS: tuple[str, ...] = ("input", "output")
"""Where a transposed conv's MACs are counted: on its input (cnncalc's) or its output."""
