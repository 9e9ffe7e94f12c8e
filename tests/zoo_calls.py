"""A zoo network as an importer writes it back: every layer a module.

A zoo layer may say how PyTorch applies it (``call: function`` for torchvision's
``F.relu``, ``channels_last``, ``subclass``). An ONNX file holds operators, not modules,
and the ONNX importer writes every layer as a module, so an ONNX round trip is compared
with the zoo network with those marks dropped: the same layers, shapes and parameters, and
the totals each peer preset gives when every layer is a module. (The torch importer reads
the marks off torch.fx's graph, so its round trips compare with the zoo network as is.)
"""

from __future__ import annotations

import re
from pathlib import Path

from cnncalc.analysis.pipeline import loads

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def zoo_as_modules(name: str):
    """The built-in network ``name`` with its ``call:`` marks dropped."""
    text = (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
    return loads(re.sub(r", call: \w+", "", text), name)
