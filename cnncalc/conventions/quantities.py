"""Every quantity a convention may weigh, with the odd ones a peer tool counts, each with its reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.conventions.site import Quantity, Site, per_call, per_sample, raw
from cnncalc.kinds.arith import per_axis, prod
from cnncalc.kinds.ops import OP_FIELDS

if TYPE_CHECKING:
    pass


def _output_macs(site: Site) -> int:
    """MACs with a transposed conv's counted on its output (``--deconv-count output``)."""
    moved = site.layer.output_macs(site.x, site.y)
    return site.ops.macs if moved is None else moved


def _torchscan_window(site: Site) -> int:
    """outputs · (window − 1), the window as torchscan 0.2 reads it: a pool's
    ``kernel_size`` is the product of its sides only when PyTorch stores a tuple; an int
    kernel (``MaxPool2d(3)``, how torchvision and cnncalc's export write equal sides) is
    taken as a window of 3, not 9. An adaptive pool's window per axis is n/o when o
    divides n, else n mod o + 1."""
    from cnncalc.kinds.pool import Pool

    x, y = site.x, site.y
    if isinstance(site.layer, Pool):
        k = per_axis(site.layer.kernel, site.axes, "kernel")
        window = k[0] if len(set(k)) == 1 else prod(k)
    else:
        window = prod(n // o if n % o == 0 else n % o + 1 for n, o in zip(x[1:], y[1:]))
    return prod(y) * (window - 1)


def _thop_adaptive_avg(site: Site, batch: int) -> int:
    """thop 0.1.1 in float64, truncated: int((Π n/o + 1) · outputs of the batch) — inputs +
    outputs when o divides n, sometimes one less when it does not."""
    window = 1.0
    for n, o in zip(site.x[1:], site.y[1:]):
        window *= n / o
    return int((window + 1) * (prod(site.y) * batch))


def _pool_inputs(site: Site) -> int:
    """Elements a PyTorch pooling module receives: PyTorch pads both sides alike, so an
    uneven padding (TensorFlow's 'same' with an even kernel) is an explicit pad before the
    pool (cnncalc's export writes it so), and the pool sees the padded map."""
    from cnncalc.kinds.pool import Pool

    if not isinstance(site.layer, Pool):
        return prod(site.x)
    pads = site.layer.geometry(site.x).padding
    if all(lo == hi for lo, hi in pads):
        return prod(site.x)
    return site.x[0] * prod(n + lo + hi for n, (lo, hi) in zip(site.x[1:], pads))


def _lrn_padded(site: Site) -> int:
    """PyTorch's local_response_norm averages x² over a channel window by padding the
    channels with size − 1 zeros and average-pooling: (c + size − 1) · positions."""
    from cnncalc.kinds.pointwise import Lrn

    assert isinstance(site.layer, Lrn), "a quantity of LRN layers only"
    return (site.x[0] + site.layer.size - 1) * prod(site.x[1:])


def _calflops_deconv_macs(site: Site) -> int:
    """calflops 0.3.2 takes a transposed conv's weight.shape[1] = c_o/g for c_o and
    divides it by g again: c_i·(input positions)·⌊(c_o/g)/g⌋·k (right only when g = 1)."""
    from cnncalc.kinds.conv import Deconv

    layer, x = site.layer, site.x
    assert isinstance(layer, Deconv), "a quantity of transposed convs only"
    k = per_axis(layer.kernel, site.axes, "kernel")
    return prod(x) * (layer.out_channels // layer.groups // layer.groups) * prod(k)


def _calflops_deconv_bias(site: Site) -> int:
    """calflops 0.3.2 counts a transposed conv's bias as (c_o/g) times the output size of an
    ordinary conv with the same options, ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 per axis."""
    from cnncalc.kinds.conv import Deconv

    layer = site.layer
    assert isinstance(layer, Deconv), "a quantity of transposed convs only"
    if not layer.bias:
        return 0
    g = layer.geometry(site.x)
    k, s, d, p = g.kernel, g.stride, g.dilation, g.padding
    sizes = [
        (n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
        for n, kk, ss, dd, pp in zip(site.x[1:], k, s, d, p)
    ]
    return layer.out_channels // layer.groups * prod(sizes)


def _has(site: Site, name: str) -> bool:
    return any(e.name == name for e in site.layer.state(site.x))


def _scaled_inputs(site: Site) -> int:
    """Input elements of a normalisation with a learnt scale γ (its ``weight``), else 0:
    the tools that count 5 per element with an affine step and 4 without read the weight."""
    return prod(site.x) if _has(site, "weight") else 0


def _affine_terms(site: Site) -> int:
    """inputs · (γ present + β present): torchscan's LayerNorm counts one op per element for
    each of its weight and bias."""
    return prod(site.x) * (_has(site, "weight") + _has(site, "bias"))


def _norm_groups(site: Site) -> int:
    """Groups a normalisation takes statistics over (positions for a LayerNorm over the
    channels, 1 for one over the whole map)."""
    from cnncalc.kinds.pointwise import Normalization

    assert isinstance(site.layer, Normalization), "a quantity of normalisations only"
    return site.layer.norm_groups(site.x)[0]


def _calflops_upsample(site: Site, batch: int) -> int:
    """calflops 0.3.2's F.interpolate: with a size, the size alone, no batch and no channels
    (a tuple's product, but an int as it is: ``size=8`` on a 2-D map counts 8); with a
    scale factor, the input's elements (the scaling is a no-op statement in its code; a
    tuple of per-axis factors makes it raise a TypeError)."""
    from cnncalc.kinds.rearrange import Upsample

    layer = site.layer
    assert isinstance(layer, Upsample), "a quantity of upsampling layers only"
    if layer.size is not None:
        sizes = per_axis(layer.size, site.axes, "size")
        return sizes[0] if len(set(sizes)) == 1 else prod(sizes)
    return prod(site.x) * batch


QUANTITIES: dict[str, Quantity] = {
    **{f: raw(f) for f in OP_FIELDS},
    "output_macs": per_sample("MACs on the output", _output_macs.__doc__, _output_macs),
    "weights": per_call(
        "weights",
        "parameters that multiply an input, biases left out, stored once (NNDL)",
        lambda s: s.layer.weights(s.x),
    ),
    "maps": per_sample(
        "output maps",
        "output elements of a weighted layer (NNDL's output feature maps)",
        lambda s: prod(s.y) if s.layer.weighted else 0,
    ),
    "connections": per_sample(
        "connections",
        "LeNet-5's connections: each output's weighted inputs plus its bias",
        lambda s: s.layer.connections(s.x, s.y),
    ),
    "inputs": per_sample("inputs", "elements of the input", lambda s: prod(s.x)),
    "outputs": per_sample("outputs", "elements of the output", lambda s: prod(s.y)),
    "params": per_sample(
        "params", "trainable parameters, once per sample", lambda s: s.layer.params(s.x)
    ),
    "pool_inputs": per_sample("pool inputs", _pool_inputs.__doc__, _pool_inputs),
    "dropped": per_sample(
        "dropout inputs",
        "elements a dropout draws a random number for (none when p = 0)",
        lambda s: prod(s.x) if getattr(s.layer, "p", 0) > 0 else 0,
    ),
    "axes_outputs": per_sample(
        "axes·outputs", "outputs · spatial axes", lambda s: s.axes * prod(s.y)
    ),
    "torchscan_window": per_sample(
        "outputs·(window − 1)", _torchscan_window.__doc__, _torchscan_window
    ),
    "thop_adaptive_avg": Quantity(
        "⌊(Π n/o + 1)·outputs⌋", _thop_adaptive_avg.__doc__ or "", _thop_adaptive_avg
    ),
    "lrn_padded": per_sample("padded channel window", _lrn_padded.__doc__, _lrn_padded),
    "calflops_deconv_macs": per_sample(
        "calflops' MACs", _calflops_deconv_macs.__doc__, _calflops_deconv_macs
    ),
    "calflops_deconv_bias": per_sample(
        "calflops' bias adds", _calflops_deconv_bias.__doc__, _calflops_deconv_bias
    ),
    "scaled_inputs": per_sample("inputs (with γ)", _scaled_inputs.__doc__, _scaled_inputs),
    "affine_terms": per_sample("inputs·(γ + β)", _affine_terms.__doc__, _affine_terms),
    "norm_groups": per_sample("normalised groups", _norm_groups.__doc__, _norm_groups),
    "calflops_upsample": Quantity(
        "calflops' interpolate count", _calflops_upsample.__doc__ or "", _calflops_upsample
    ),
    "channels": per_call("channels", "input channels, once per call", lambda s: s.x[0]),
    "axes": per_call("axes", "spatial axes, once per call", lambda s: s.axes),
}

TERMS: dict[str, str] = {name: q.label for name, q in QUANTITIES.items()}
"""Every quantity and how a line of working names it."""
