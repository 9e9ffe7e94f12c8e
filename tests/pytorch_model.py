"""Build a zoo network as a torch.nn.Module through `cnncalc export --to pytorch`.

Shared by the tests that check cnncalc against PyTorch (export, executor, peer tools).
"""

from __future__ import annotations

import functools
import types

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.proof.export import to_pytorch


def _source(spec, source: str) -> str:
    return to_pytorch(build(spec), params=analyze(spec).total.params, source=source)


@functools.lru_cache(maxsize=None)
def exported_source(name: str) -> str:
    return _source(load(name), name)


def _execute(source: str, label: str) -> types.ModuleType:
    module = types.ModuleType(f"cnncalc_export_{label.replace('-', '_')}")
    exec(compile(source, f"<export {label}>", "exec"), module.__dict__)
    return module


def exported_module(name: str) -> types.ModuleType:
    """The generated Python module of a built-in network, executed (needs torch)."""
    return _execute(exported_source(name), name)


def exported_yaml_module(text: str) -> types.ModuleType:
    """The generated Python module of a network written as YAML text, executed."""
    return _execute(_source(loads(text), "<yaml>"), "yaml")


def torch_model(name: str):
    """A fresh instance of the exported network, in eval mode."""
    return exported_module(name).build().eval()


def spec_model(spec, label: str):
    """A fresh instance of the exported network ``spec`` (a study's variant, say), in eval
    mode."""
    return _execute(_source(spec, label), label).build().eval()
