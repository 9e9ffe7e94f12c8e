"""Receptive field and jump of every kind against PyTorch's gradient.

The oracle: the receptive field of an output unit is the set of input pixels that reach
it, so it is where the gradient of that unit with respect to the input is non-zero, once
every weight is positive (a zero weight would hide a pixel, a negative one could cancel
it). Along each spatial axis the field is the extent of that set (last − first + 1, holes
of a dilated kernel included), and the jump is how far the first pixel moves between
neighbouring output units.

The torch model is built here from each layer's YAML options (the options cnncalc
validated, read by name: kernel, stride, padding, dilation, ceil_mode…), not from
cnncalc's export, geometry or padding resolution: ``same`` is TensorFlow's rule as
written in ``oracle_rules.py``. With positive weights the channels change nothing about
which pixels reach a unit, so every map is built with one channel and each weight is
1/fan-in (all ones would overflow float64 through a hundred layers); element-wise and
channel-only kinds (ReLU, BatchNorm, LRN, dropout…) move no pixel and are the identity;
a max pool is an average pool of the same window (the same pixels reach it: the window),
except in the one-layer max-pool test, which runs PyTorch's real max pool on ramps.
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import prod

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from oracle_rules import as_tuple, per_side_padding, torch_pad_order  # noqa: E402
from zoo_params import zoo_specs  # noqa: E402

from cnncalc.analysis.pipeline import analyze, build, loads  # noqa: E402
from cnncalc.errors import CnnCalcError  # noqa: E402
from cnncalc.model.graph import INPUT  # noqa: E402

POINTWISE = {"relu", "relu6", "sigmoid", "tanh", "softmax", "batchnorm", "lrn", "dropout"}
"""Kinds that move no pixel: element-wise, or across channels at one position."""


# --------------------------------------------------------------------------- the torch model


def _conv(x, opts):
    ndim = x.dim() - 2
    k = as_tuple(opts["kernel"], ndim)
    s, d = as_tuple(opts["stride"], ndim), as_tuple(opts["dilation"], ndim)
    k_eff = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    pads = per_side_padding(opts["padding"], ndim, x.shape[2:], k_eff, s)
    x = F.pad(x, torch_pad_order(pads))
    c_in = x.shape[1]
    w = torch.full((1, c_in) + k, 1.0 / (c_in * prod(k)), dtype=x.dtype)
    return (F.conv1d, F.conv2d, F.conv3d)[ndim - 1](x, w, stride=s, dilation=d)


def _deconv(x, opts):
    ndim = x.dim() - 2
    k = as_tuple(opts["kernel"], ndim)
    c_in = x.shape[1]
    w = torch.full((c_in, 1) + k, 1.0 / (c_in * prod(k)), dtype=x.dtype)
    transposed = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[ndim - 1]
    return transposed(
        x,
        w,
        stride=as_tuple(opts["stride"], ndim),
        padding=as_tuple(opts["padding"], ndim),
        output_padding=as_tuple(opts["output_padding"], ndim),
        dilation=as_tuple(opts["dilation"], ndim),
    )


def _pool(x, opts):
    ndim = x.dim() - 2
    k = as_tuple(opts["kernel"], ndim)
    s = k if opts["stride"] is None else as_tuple(opts["stride"], ndim)
    assert as_tuple(opts["dilation"], ndim) == (1,) * ndim, "an average pool has no dilation"
    pads = per_side_padding(opts["padding"], ndim, x.shape[2:], k, s)
    assert all(lo == hi for lo, hi in pads), "PyTorch pools pad both sides alike"
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[ndim - 1]
    return pool(
        x,
        k,
        s,
        tuple(lo for lo, _ in pads),
        ceil_mode=opts["ceil_mode"],
        count_include_pad=opts["count_include_pad"],
    )


def _adaptive(x, opts):
    ndim = x.dim() - 2
    pool = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[ndim - 1]
    return pool(x, as_tuple(opts["size"], ndim))


def _subsample(x, opts):
    ndim = x.dim() - 2
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[ndim - 1]
    return pool(x, opts["kernel"], opts["kernel"])


SPATIAL = {
    "conv": _conv,
    "deconv": _deconv,
    "pool": _pool,
    "adaptive": _adaptive,
    "subsample": _subsample,
    "gap": lambda x, opts: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
}


def forward(graph, x, last: int) -> dict:
    """Every node's output up to node ``last``; None for a node that is not a feature map
    (fc, flatten…) or that reads one."""
    values = {INPUT: x}
    for node in graph.nodes[: last + 1]:
        xs = [values[i] for i in node.inputs]
        if any(v is None for v in xs):
            y = None
        elif node.kind in POINTWISE:
            y = xs[0]
        elif node.kind == "add":
            y = sum(xs)
        elif node.kind == "concat":
            y = torch.cat(xs, dim=1).sum(dim=1, keepdim=True)  # the position's field: all maps
        elif node.kind in SPATIAL:
            y = SPATIAL[node.kind](xs[0], node.layer.model_dump())
            assert tuple(y.shape[2:]) == node.out_shape[1:], node.name
        else:
            y = None
        values[node.index] = y
    return values


def supports(graph, index: int, units: list[tuple[int, ...]]) -> list:
    """For each output unit of node ``index``: per axis, (first, last) input pixel with a
    non-zero gradient, or None if no pixel reaches it. One backward for all units: each
    unit has its own copy of the input in the batch."""
    size = graph.input[1:]
    x = torch.ones((len(units), 1) + tuple(size), dtype=torch.float64, requires_grad=True)
    y = forward(graph, x, index)[index]
    picked = sum(y[(b, 0) + tuple(u)] for b, u in enumerate(units))
    (grad,) = torch.autograd.grad(picked, x)
    result = []
    for reached in grad[:, 0].numpy() != 0:
        where = np.nonzero(reached)
        result.append([(int(w.min()), int(w.max())) for w in where] if where[0].size else None)
    return result


def measured_field(graph, index: int, period: tuple[int, ...]):
    """(rf, jump) per axis from the gradients of the units around the centre of node
    ``index``'s map: rf is the widest extent among units ``c + t`` with 0 ≤ t_a ≤ 2·period_a
    (a transposed conv's units differ by phase, and some phases see no input), jump is the
    move of the first pixel from ``u`` to ``u + period_a`` along axis a, divided by
    period_a."""
    out = graph.nodes[index].out_shape[1:]
    centre = tuple((m - 1) // 2 for m in out)
    grid = [()]
    for c, p, m in zip(centre, period, out):
        grid = [g + (t,) for g in grid for t in range(c, min(c + 2 * p, m - 1) + 1)]
    seen = dict(zip(grid, supports(graph, index, grid)))
    rf, jump = [], []
    for axis, p in enumerate(period):
        rf.append(max(s[axis][1] - s[axis][0] + 1 for s in seen.values() if s))
        steps = [
            Fraction(seen[v][axis][0] - s[axis][0], p)
            for u, s in seen.items()
            if s
            for v in [u[:axis] + (u[axis] + p,) + u[axis + 1 :]]
            if seen.get(v)
        ]
        jump.append(steps[0] if steps else None)
    return tuple(rf), tuple(jump)


def one_layer(layer: str, input: tuple[int, ...]):
    """A one-layer network from YAML text: its graph and cnncalc's row for the layer."""
    text = f"input: {list(input)}\nlayers:\n  - {layer}\n"
    spec = loads(text)
    return build(spec), analyze(spec).layers[0]


# --------------------------------------------------------------------------- one layer


def random_conv(rng: random.Random, ndim: int) -> tuple[str, list[int]]:
    k = [rng.randint(1, 5) for _ in range(ndim)]
    s = [rng.randint(1, 3) for _ in range(ndim)]
    d = [rng.randint(1, 3) for _ in range(ndim)]
    padding = rng.choice(
        [
            rng.randint(0, 2),
            "same",
            "valid",
            [rng.randint(0, 2) for _ in range(ndim)],
            [rng.randint(0, 3) for _ in range(2 * ndim)],
        ]
    )
    padding = f"'{padding}'" if isinstance(padding, str) else padding
    reach = [dd * (kk - 1) + 1 + 2 * ss + 3 for kk, ss, dd in zip(k, s, d)]
    return f"{{conv: 2, kernel: {k}, stride: {s}, dilation: {d}, padding: {padding}}}", reach


def sizes_for(rng: random.Random, reach: list[int]) -> tuple[int, ...]:
    """An input wide enough that the central units' fields (``reach`` pixels per axis, the
    window and its stride) lie well inside it."""
    return tuple(2 * r + rng.randint(4, 9) for r in reach)


@pytest.mark.parametrize("seed", range(40))
def test_conv_rf_and_jump_match_the_gradient(seed):
    """Dilation widens the field to d·(k − 1) + 1; stride multiplies the jump."""
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 2, 3])
    layer, reach = random_conv(rng, ndim)
    graph, row = one_layer(layer, (2,) + sizes_for(rng, reach))
    rf, jump = measured_field(graph, 0, (1,) * ndim)
    assert (row.rf, row.jump) == (rf, jump), layer


def test_dilated_strided_conv_has_the_textbook_field():
    """3×3, dilation 2: extent 2·(3 − 1) + 1 = 5; stride 2: jump 2."""
    graph, row = one_layer("{conv: 1, kernel: 3, dilation: 2, stride: 2, padding: 2}", (1, 21, 21))
    assert measured_field(graph, 0, (1, 1)) == ((5, 5), (2, 2))
    assert (row.rf, row.jump) == ((5, 5), (2, 2))


def random_deconv(rng: random.Random, ndim: int) -> tuple[str, list[int]]:
    k = [rng.randint(1, 5) for _ in range(ndim)]
    s = [rng.randint(1, 3) for _ in range(ndim)]
    d = [rng.randint(1, 3) for _ in range(ndim)]
    p = [rng.randint(0, (kk - 1) * dd // 2) for kk, dd in zip(k, d)]
    op = [rng.randint(0, max(ss, dd) - 1) for ss, dd in zip(s, d)]
    text = (
        f"{{deconv: 2, kernel: {k}, stride: {s}, dilation: {d}, padding: {p}, "
        f"output_padding: {op}}}"
    )
    return text, [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]


@pytest.mark.parametrize("seed", range(40))
def test_deconv_rf_and_jump_match_the_gradient(seed):
    """A transposed conv of stride s moves its field one input pixel every s outputs:
    jump j/s. Each output sees the taps of its phase, at most ⌊(k − 1)·g/s⌋·d/g + 1
    inputs apart (g = gcd(d, s)); ⌈k/s⌉ when d = 1."""
    rng = random.Random(seed)
    ndim = rng.choice([1, 2])
    layer, reach = random_deconv(rng, ndim)
    graph, row = one_layer(layer, (2,) + sizes_for(rng, reach))
    strides = as_tuple(graph.nodes[0].layer.stride, ndim)
    rf, jump = measured_field(graph, 0, strides)
    assert (row.rf, row.jump) == (rf, jump), layer


def test_deconv_stride_2_divides_the_jump():
    """k = 4, s = 2: every output sees ⌈4/2⌉ = 2 inputs; the field moves 1/2 pixel per output."""
    graph, row = one_layer("{deconv: 1, kernel: 4, stride: 2, padding: 1}", (1, 9, 9))
    half = Fraction(1, 2)
    assert measured_field(graph, 0, (2, 2)) == ((2, 2), (half, half))
    assert (row.rf, row.jump) == ((2, 2), (half, half))


def test_dilated_deconv_sees_only_its_phase():
    """k = 2, d = 3, s = 2: taps 0 and 3 fall on outputs of different parity, so every
    output is reached by one input (not ⌈(3·1 + 1)/2⌉ = 2)."""
    graph, row = one_layer("{deconv: 1, kernel: 2, stride: 2, dilation: 3}", (1, 9))
    assert measured_field(graph, 0, (2,)) == ((1,), (Fraction(1, 2),))
    assert row.rf == (1,)


def random_pool(rng: random.Random, ndim: int, mode: str) -> tuple[str, list[int]]:
    k = [rng.randint(1, 5) for _ in range(ndim)]
    s = [rng.randint(1, 3) for _ in range(ndim)]
    p = [rng.randint(0, kk // 2) for kk in k]
    d = [rng.randint(1, 3) for _ in range(ndim)] if mode == "max" else [1] * ndim
    ceil = rng.choice(["true", "false"])
    reach = [dd * (kk - 1) + 1 + 2 * ss + 2 for kk, ss, dd in zip(k, s, d)]
    text = (
        f"{{pool: {mode}, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, "
        f"ceil_mode: {ceil}, count_include_pad: {rng.choice(['true', 'false'])}}}"
        if mode == "avg"
        else f"{{pool: {mode}, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, "
        f"ceil_mode: {ceil}}}"
    )
    return text, reach


@pytest.mark.parametrize("seed", range(30))
def test_avg_pool_rf_and_jump_match_the_gradient(seed):
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 3])
    layer, reach = random_pool(rng, ndim, "avg")
    graph, row = one_layer(layer, (2,) + sizes_for(rng, reach))
    assert (row.rf, row.jump) == measured_field(graph, 0, (1,) * ndim), layer


def max_pool_first_last(x, opts, unit, axis, ndim):
    """Where the gradient of one max-pool output lands on a ramp that rises along
    ``axis`` (the window's last pixel on that axis) and on one that falls (its first)."""
    k = as_tuple(opts["kernel"], ndim)
    s = as_tuple(opts["stride"], ndim)
    p = as_tuple(opts["padding"], ndim)
    d = as_tuple(opts["dilation"], ndim)
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[ndim - 1]
    ends = []
    for sign in (-1.0, 1.0):
        shape = [1] * ndim
        shape[axis] = x.shape[2 + axis]
        ramp = sign * torch.arange(shape[axis], dtype=torch.float64).reshape(shape)
        xr = (x.detach() * 0 + ramp).requires_grad_(True)
        y = pool(xr, k, s, p, d, ceil_mode=opts["ceil_mode"])
        (g,) = torch.autograd.grad(y[(0, 0) + unit], xr)
        ends.append(torch.nonzero(g[0, 0])[0, axis].item())
    return ends


@pytest.mark.parametrize("seed", range(30))
def test_max_pool_rf_and_jump_match_real_max_pool_gradients(seed):
    """PyTorch's own max pool (dilation and ceil_mode included) sends the gradient to the
    window's maximum: on a ramp rising along one axis that is the window's last pixel on
    it, on a falling ramp its first, so both ends of the field are measured exactly."""
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 3])
    layer, reach = random_pool(rng, ndim, "max")
    graph, row = one_layer(layer, (1,) + sizes_for(rng, reach))
    opts = graph.nodes[0].layer.model_dump()
    if opts["stride"] is None:
        opts["stride"] = opts["kernel"]
    x = torch.zeros((1, 1) + graph.input[1:], dtype=torch.float64)
    centre = tuple((m - 1) // 2 for m in row.out_shape[1:])
    rf, jump = [], []
    for axis in range(ndim):
        first, last = max_pool_first_last(x, opts, centre, axis, ndim)
        neighbour = centre[:axis] + (centre[axis] + 1,) + centre[axis + 1 :]
        next_first, _ = max_pool_first_last(x, opts, neighbour, axis, ndim)
        rf.append(last - first + 1)
        jump.append(next_first - first)
    assert (row.rf, row.jump) == (tuple(rf), tuple(jump)), layer


@pytest.mark.parametrize(
    "n,out", [(7, 3), (10, 4), (13, 5), (9, 3), (12, 4), (5, 5), (3, 5), (11, 2), (6, 1)]
)
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_adaptive_pool_rf_is_its_largest_window(n, out, mode):
    """PyTorch's window i is [⌊i·n/o⌋, ⌈(i+1)·n/o⌉): when o does not divide n the windows
    differ in size and the field is the largest. The starts are then not evenly spaced:
    cnncalc's jump must be one of the spacings seen (the spacing itself when o divides n)."""
    graph, row = one_layer(f"{{adaptive: [{out}, {out}], mode: {mode}}}", (2, n, n))
    every = [(i, j) for i in range(out) for j in range(out)]
    seen = dict(zip(every, supports(graph, 0, every)))
    for axis in range(2):
        widest = max(s[axis][1] - s[axis][0] + 1 for s in seen.values())
        assert row.rf[axis] == widest
        spacings = {
            seen[(i + 1, j) if axis == 0 else (i, j + 1)][axis][0] - seen[(i, j)][axis][0]
            for i, j in every
            if (i + 1 if axis == 0 else j + 1) < out
        }
        if out > 1:
            assert row.jump[axis] in spacings
        if n % out == 0:
            assert spacings <= {n // out}


@pytest.mark.parametrize("size", [(5,), (6, 9), (3, 4, 5)])
def test_global_pool_sees_the_whole_map(size):
    """One output per map, reached by every pixel: the field is the map."""
    graph, row = one_layer("{gap: }", (2,) + size)
    (s,) = supports(graph, 0, [(0,) * len(size)])
    assert row.rf == tuple(last - first + 1 for first, last in s) == size


# --------------------------------------------------------------------------- joins


def random_branch(rng: random.Random) -> list[str]:
    """1–3 layers that keep the size: convs padded by their extent − 1 in all, split
    between the sides at random (so the branches need not be centred alike), or pools
    padded by half of an odd window on each side."""
    layers = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.7:
            k, d = rng.randint(1, 5), rng.randint(1, 3)
            before = [rng.randint(0, d * (k - 1)) for _ in range(2)]
            sides = [before[0], d * (k - 1) - before[0], before[1], d * (k - 1) - before[1]]
            layers.append(f"{{conv: 2, kernel: {k}, dilation: {d}, padding: {sides}}}")
        else:
            k = rng.choice([3, 5])
            mode = rng.choice(["max", "avg"])
            layers.append(f"{{pool: {mode}, kernel: {k}, stride: 1, padding: {k // 2}}}")
    return layers


def join_network(rng: random.Random, join: str) -> str:
    """Two or three branches of different depth, dilation and padding, sometimes an
    identity, each ending in the same strided conv when one does."""
    branches = [random_branch(rng) for _ in range(rng.randint(2, 3))]
    if rng.random() < 0.3:
        branches.append([])  # the identity: a residual shortcut, DenseNet's "keep"
    if rng.random() < 0.5:
        branches = [b + ["{conv: 2, kernel: 3, stride: 2, padding: 1}"] for b in branches]
    lines = [f"  - {join}:"] + [f"      - [{', '.join(b)}]" for b in branches]
    return "input: [2, 40, 40]\nlayers:\n" + "\n".join(lines) + "\n  - {conv: 2, kernel: 3}\n"


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("join", ["add", "concat"])
def test_join_takes_the_widest_branch(seed, join):
    """A position after a join is reached through every branch (through every map of a
    concat): its field is the union of theirs, from the earliest start to the latest end
    (the widest branch's only when they are centred alike); the conv after it grows it
    by 2."""
    text = join_network(random.Random(seed), join)
    spec = loads(text)
    graph, rows = build(spec), analyze(spec).layers
    joined = next(n.index for n in graph.nodes if n.kind == join)
    for index in (joined, len(graph.nodes) - 1):
        measured = measured_field(graph, index, (1, 1))
        assert (rows[index].rf, rows[index].jump) == measured, text


# --------------------------------------------------------------------------- the zoo


MAX_SIZE = 192
MAX_SIZE_3D = 40
"""A video network's gradient over D×H×W costs the cube: its fields are measured up to 40."""
"""The widest input the zoo test builds (with one channel per map, to keep the run short):
a field wider than half of it is not measured, so the deep networks are checked on a
prefix (ResNet-152: conv1 to layer2.4, fields up to 91 pixels)."""

MAX_NODES = 6
"""Nodes measured per network, spread evenly over those that fit, the last always in."""


def buildable(graph) -> set[int]:
    """The nodes the torch model above builds as feature maps: windows, pools and joins
    whose inputs are feature maps (element-wise kinds pass their input on)."""
    maps = {INPUT}
    for node in graph.nodes:
        if all(i in maps for i in node.inputs) and (
            node.kind in SPATIAL or node.kind in POINTWISE or node.kind in ("add", "concat")
        ):
            maps.add(node.index)
    return maps


@pytest.mark.parametrize("spec", zoo_specs())
def test_zoo_fields_match_the_gradient(spec):
    """Every zoo network (a study: every variant) on an input wide enough for its fields,
    up to MAX_SIZE, one channel per map: window, pool and join nodes whose field cnncalc
    puts within half the input are measured at the centre of their map."""
    first = analyze(spec)
    widest = [1] * (len(first.input) - 1)
    for row in first.layers:
        if len(row.out_shape) > 1 and row.kind not in ("gap", "adaptive"):
            widest = [max(w, int(r)) for w, r in zip(widest, row.rf)]
    cap = MAX_SIZE if len(widest) < 3 else MAX_SIZE_3D
    size = tuple(min(cap, max(n, 2 * w + 8)) for n, w in zip(first.input[1:], widest))
    while True:  # a network that needs a wider input (a 7×7 conv as classifier) gets it
        shape = (first.input[0],) + size
        try:
            graph, rows = build(spec, shape), analyze(spec, shape).layers
            break
        except CnnCalcError:
            assert size != first.input[1:], "the network's own input must build"
            size = tuple(min(n, s + 32) for n, s in zip(first.input[1:], size))
    maps = buildable(graph)
    eligible = [
        n.index
        for n in graph.nodes
        if n.index in maps
        and n.kind not in POINTWISE
        and all(2 * r <= s for r, s in zip(rows[n.index].rf, size))
    ]
    if not eligible:
        assert all(len(r.out_shape) == 1 for r in rows)  # an fc-only network
        return
    step = max(1, len(eligible) // MAX_NODES)
    chosen = sorted(set(eligible[::step]) | {eligible[-1]})
    upsampling = upsampling_factors(graph)
    for index in chosen:
        node, row = graph.nodes[index], rows[index]
        out = node.out_shape[1:]
        if node.kind in ("adaptive", "gap"):
            every = adaptive_grid(out)
            seen = dict(zip(every, supports(graph, index, every)))
            for axis in range(len(out)):
                widest_seen = max(s[axis][1] - s[axis][0] + 1 for s in seen.values())
                assert row.rf[axis] == widest_seen, node.name
                assert_interior(seen.values(), size, node.name)
            continue
        centre = tuple((m - 1) // 2 for m in out)
        step = upsampling[index]
        units = [centre] + [
            centre[:a] + (centre[a] + step,) + centre[a + 1 :]
            for a in range(len(out))
            if out[a] > centre[a] + step
        ]
        seen = supports(graph, index, units)
        assert_interior(seen, size, node.name)
        rf = tuple(hi - lo + 1 for lo, hi in seen[0])
        assert tuple(row.rf) == rf, node.name
        moved = dict(zip((a for a in range(len(out)) if out[a] > centre[a] + step), seen[1:]))
        for axis, s in moved.items():
            assert row.jump[axis] * step == s[axis][0] - seen[0][axis][0], (node.name, axis)


def upsampling_factors(graph) -> list[int]:
    """Per node, the product of the strides of the transposed convs on its widest path from
    the input. Below a stride-s up-convolution neighbouring outputs can share their inputs
    (outputs 2i and 2i + 1 of a 2×2, stride-2 one both read input i), so the jump j, a
    fraction of an input step, shows only over that many outputs: moving by u units moves
    the support by j·u pixels (the U-Net's up4 … dec1)."""
    factors: list[int] = []
    for node in graph.nodes:
        before = max((factors[i] for i in node.inputs if i != INPUT), default=1)
        stride = max(as_tuple(node.layer.stride, 1)) if node.kind == "deconv" else 1
        factors.append(before * stride)
    return factors


def adaptive_grid(out):
    """Every unit of a (small) adaptive or global pool's map: its windows differ in size."""
    grid = [()]
    for m in out:
        grid = [g + (t,) for g in grid for t in range(m)]
    return grid


def assert_interior(seen, size, name):
    """A field that touches the input's edge may have been cut there: cnncalc put it within
    half the input, so it must not."""
    for s in seen:
        assert s is not None, f"{name}: no input pixel reaches the unit"
        for (lo, hi), n in zip(s, size):
            assert 0 < lo and hi < n - 1, f"{name}: the field reaches the input's edge {s}"


def test_branches_padded_on_opposite_sides_join_into_a_wider_field():
    """3-tap convs padded [2, 0] and [0, 2]: unit o sees o − 2…o in one branch and o…o + 2
    in the other, so the joined field is 5 wide, not max(3, 3)."""
    text = (
        "input: [1, 20]\nlayers:\n  - add:\n"
        "      - [{conv: 1, kernel: 3, padding: [2, 0]}]\n"
        "      - [{conv: 1, kernel: 3, padding: [0, 2]}]\n"
    )
    spec = loads(text)
    graph, rows = build(spec), analyze(spec).layers
    assert measured_field(graph, 2, (1,)) == ((5,), (1,))
    assert rows[2].rf == (5,)


@pytest.mark.xfail(
    strict=True,
    reason="known: after a transposed conv the field's jump is a fraction and r + (k − 1)·j "
    "averages over the output phases instead of taking the widest (needs per-phase fields)",
)
def test_conv_after_a_transposed_conv_sees_two_inputs():
    """deconv k = 3, s = 2 then a 2-tap conv: outputs 2m and 2m + 1 of the deconv are reached
    by inputs {m − 1, m} and {m}, so every conv output sees 2 inputs; cnncalc says 5/2."""
    spec = loads(
        "input: [1, 9]\nlayers:\n  - {deconv: 1, kernel: 3, stride: 2}\n  - {conv: 1, kernel: 2}\n"
    )
    graph, rows = build(spec), analyze(spec).layers
    assert measured_field(graph, 1, (2,))[0] == (2,)
    assert rows[1].rf == (2,)
