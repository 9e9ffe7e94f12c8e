"""Layers folded into their blocks by their dotted names (``--depth N``).

A layer named ``layer1.0.conv1`` has the path ``("layer1", "0", "conv1")``; folded to
depth 1 it belongs to the block ``layer1``, to depth 2 to ``layer1.0``. A block's
numbers are the sums of its layers' (exact ints); the shape coming out of it is the
output of its last layer in forward order, its receptive field that layer's. This is
torchinfo's ``depth=`` and fvcore's ``flop_count_table(max_depth=)``, read off the
names cnncalc gives every layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Sequence

from cnncalc.analysis.names import BLOCK, layer_path
from cnncalc.analysis.stats import Analysis, Counted, LayerStats
from cnncalc.conventions.engine import NO_FIGURES, Figures
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape

if TYPE_CHECKING:
    from cnncalc.analysis.memory import LayerMemory, MemoryAnalysis


def check_depth(depth: int | None) -> None:
    if depth is not None and depth < 1:
        raise CnnCalcError(
            f"--depth folds layers into blocks of that many name parts; it must be 1 or more, "
            f"got {depth}",
            field="--depth",
            hint="--depth 1 shows a network by its top-level blocks",
        )


def fold_names(names: Sequence[str], depth: int) -> list[tuple[str, list[int]]]:
    """The blocks at ``depth``, in order of their first layer, each with the indices of
    its layers in forward order."""
    check_depth(depth)
    blocks: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        blocks.setdefault(".".join(layer_path(name)[:depth]), []).append(i)
    return list(blocks.items())


@dataclass(frozen=True)
class Block(Counted):
    """Layers folded into one row: their sums, and the shape coming out of the last."""

    name: str
    layers: tuple[LayerStats, ...]
    params: int
    buffers: int
    connections: int
    figures: Figures
    activations: int
    network_flops: int

    @property
    def kind(self) -> str:
        return self.layers[0].kind if len(self.layers) == 1 else BLOCK

    @property
    def in_shape(self) -> Shape:
        return self.layers[0].in_shape

    @property
    def out_shape(self) -> Shape:
        return self.layers[-1].out_shape

    @property
    def rf(self) -> tuple[Fraction, ...]:
        return self.layers[-1].rf

    @property
    def jump(self) -> tuple[Fraction, ...]:
        return self.layers[-1].jump

    @property
    def share(self) -> Fraction:
        """The block's part of the network's FLOPs under the convention."""
        return Fraction(self.flops, self.network_flops) if self.network_flops else Fraction(0)


def fold_analysis(analysis: Analysis, depth: int) -> tuple[Block, ...]:
    """An analysis's layers folded into their blocks at ``depth``, with subtotals."""
    blocks = []
    for name, members in fold_names([l.name for l in analysis.layers], depth):
        layers = tuple(analysis.layers[i] for i in members)
        blocks.append(
            Block(
                name=name,
                layers=layers,
                params=sum(l.params for l in layers),
                buffers=sum(l.buffers for l in layers),
                connections=sum(l.connections for l in layers),
                figures=sum((l.figures for l in layers), NO_FIGURES),
                activations=sum(l.activations for l in layers),
                network_flops=analysis.total.flops,
            )
        )
    return tuple(blocks)


def fold_memory(memory: MemoryAnalysis, depth: int) -> tuple[LayerMemory, ...]:
    """Training memory per block at ``depth``: each kind of bytes summed over the block's
    layers, the block's output shape that of its last layer."""
    from cnncalc.analysis.memory import LayerMemory  # only cnncalc memory loads it (issue 11)

    blocks = []
    for name, members in fold_names([l.name for l in memory.layers], depth):
        layers = [memory.layers[i] for i in members]
        blocks.append(
            LayerMemory(
                name=name,
                kind=layers[0].kind if len(layers) == 1 else BLOCK,
                out_shape=layers[-1].out_shape,
                params=sum(l.params for l in layers),
                buffers=sum(l.buffers for l in layers),
                gradients=sum(l.gradients for l in layers),
                optimizer=sum(l.optimizer for l in layers),
                activations=sum(l.activations for l in layers),
                kept_for=(),
                kept_what=tuple(dict.fromkeys(w for l in layers for w in l.kept_what)),
            )
        )
    return tuple(blocks)
