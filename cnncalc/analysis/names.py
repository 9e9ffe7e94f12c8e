"""A layer's place in its blocks, read off its dotted name: ``layer1.0.conv1`` sits in
``layer1``, then in ``layer1.0`` (what ``--depth`` folds by, :mod:`cnncalc.analysis.fold`).

Apart from the folding so that a report that folds nothing can name each layer's path
without loading it (issue 11: start-up).
"""

from __future__ import annotations

BLOCK = "block"
"""The kind of a folded row that holds more than one layer (no layer kind has this key)."""


def layer_path(name: str) -> tuple[str, ...]:
    """``layer1.0.conv1`` → ``("layer1", "0", "conv1")``: where a layer sits in its blocks."""
    return tuple(name.split("."))
