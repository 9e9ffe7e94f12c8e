"""What a layer's backward pass costs and keeps: the small records each kind returns.

Every kind in :mod:`cnncalc.kinds` answers two questions about training, next to
its forward rules:

- ``backward(x, y, batch)`` → :class:`Backward`: the raw operations of the
  gradient with respect to its input (``dx``) and to its parameters (``dw``),
  for the whole batch (a weight gradient sums over the batch, so it is not
  ``batch`` times one sample's);
- ``saved(x, y, batch)`` → :class:`Saved`: the tensors PyTorch autograd keeps
  from the forward pass for that backward (``input``, ``output``, and
  ``extra`` tensors of the layer's own, such as max pooling's int64 indices).

Counting rules, the same for every kind (d2l 7.2/7.4's exercises on the
forward and backward multiplications, additions and memory of a conv layer):

- a sum of n terms costs n − 1 adds (as the forward counts a dot product);
- a gradient that is scattered back (col2im after a conv, pooling windows) is
  accumulated into a zeroed tensor, one add per scattered value, as PyTorch's
  CPU kernels (``col2im``, ``max_pool2d_with_indices_backward``,
  ``avg_pool2d_backward``) do;
- ``macs`` of a weighted layer are its weight uses: dX and dW each repeat every
  forward multiply-accumulate once (∂y/∂x = w and ∂y/∂w = x for each product
  w·x), so each equals the forward MACs, which is what PyTorch's
  ``FlopCounterMode`` counts for ``convolution_backward`` and ``mm``.
"""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.kinds.ops import Ops

# named tuples, not frozen dataclasses: equal, hashable and read-only alike, without
# compiling five methods each at import (issue 11: start-up)


class Backward(NamedTuple):
    """Raw operations of one layer's backward pass, whole batch."""

    dx: Ops = Ops()
    """Gradient with respect to the layer's input (skipped when nothing before it trains)."""
    dw: Ops = Ops()
    """Gradient with respect to its parameters (weights and bias)."""


class Kept(NamedTuple):
    """A tensor a layer's backward keeps besides its input and output."""

    what: str
    elements: int
    """Values for the whole batch."""
    width: int | None = None
    """Bytes per value; None means the training dtype (fp32, fp16, ...)."""


class Saved(NamedTuple):
    """What autograd keeps of one layer from the forward pass for its backward."""

    input: bool = False
    output: bool = False
    extra: tuple[Kept, ...] = ()


INDEX_BYTES = 8
"""PyTorch keeps pooling argmax indices as int64."""
