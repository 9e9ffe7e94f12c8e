"""Build a zoo network as a torch.nn.Module through `cnncalc export --to pytorch`.

Shared by the tests that check cnncalc against PyTorch (export, executor, peer tools).
"""

from __future__ import annotations

import functools
import types

from cnncalc.api import analyze, build, load
from cnncalc.export import to_pytorch


@functools.lru_cache(maxsize=None)
def exported_source(name: str) -> str:
    spec = load(name)
    return to_pytorch(build(spec), params=analyze(spec).total.params, source=name)


def exported_module(name: str) -> types.ModuleType:
    """The generated Python module of a built-in network, executed (needs torch)."""
    module = types.ModuleType(f"cnncalc_export_{name.replace('-', '_')}")
    exec(compile(exported_source(name), f"<export {name}>", "exec"), module.__dict__)
    return module


def torch_model(name: str):
    """A fresh instance of the exported network, in eval mode."""
    return exported_module(name).build().eval()
