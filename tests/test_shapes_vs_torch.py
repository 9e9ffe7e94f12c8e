"""cnncalc's shape rules against PyTorch, on thousands of random single layers.

The draws are built inside PyTorch's valid region (not filtered into it), with one in ten
just past its edge: either both accept a configuration and the shapes are equal, or both
refuse it (cnncalc with a one-line CnnCalcError, PyTorch with its own message). The one
deliberate difference: padding 'same' with a stride above 1 (TensorFlow/Keras define it,
PyTorch refuses it) is kept out of the draw and tested on its own. The refusals, one kind at
a time, are tested in test_refusals.py.
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import optional_module

from cnncalc.analysis.pipeline import build, loads
from cnncalc.errors import CnnCalcError

torch = optional_module("torch")
F = torch.nn.functional if torch else None
pytestmark = pytest.mark.requires("torch")  # every test here compares with PyTorch

DIMS = st.integers(1, 3)
OUTSIDE = 10
"""One draw in OUTSIDE steps just past the valid region's edge (a kernel one too large, an
output_padding as large as the stride): both must refuse it. The rest are valid by
construction; each refusal has its own test in test_refusals.py."""

PYTORCH_REFUSES = re.compile(
    "Kernel size can't be greater than actual input size|Output size is too small"
    "|pad should be at most half of effective kernel size|Invalid computed output size"
    "|smaller than kernel size|output padding must be smaller than either stride or dilation"
)
"""PyTorch's messages for the configurations drawn outside the valid region; any other
error is a failure, not a refusal."""


def predicted(input_shape, layer_yaml):
    text = f"input: {list(input_shape)}\nlayers:\n  - {layer_yaml}\n"
    try:
        return build(loads(text)).out_shape
    except CnnCalcError as exc:
        assert str(exc) and "\n" not in str(exc)  # one line, never an empty error
        return None


def actual(fn):
    """PyTorch's output shape, or None when it refuses the configuration with one of the
    messages of :data:`PYTORCH_REFUSES`."""
    try:
        with torch.no_grad():
            return tuple(fn().shape[1:])
    except RuntimeError as exc:
        if not PYTORCH_REFUSES.search(str(exc)):
            raise
        return None


def agree(input_shape, layer_yaml, fn):
    want = actual(fn)
    got = predicted(input_shape, layer_yaml)
    assert got == want, f"{layer_yaml} on {input_shape}: cnncalc {got}, PyTorch {want}"


def largest_fitting(room: int, dilation: int) -> int:
    """The largest kernel k whose extent d·(k − 1) + 1 fits ``room`` (the padded input)."""
    return (room - 1) // dilation + 1


def outside(draw, kernel: list[int], largest: list[int]) -> None:
    """Once in :data:`OUTSIDE` draws, one axis's kernel one larger than fits."""
    if draw(st.integers(1, OUTSIDE)) == 1:
        axis = draw(st.integers(0, len(kernel) - 1))
        kernel[axis] = largest[axis] + 1


@st.composite
def conv_case(draw):
    """A conv inside PyTorch's valid region: groups divide both channel counts; 'same' only
    with stride 1 (PyTorch's rule); the dilated kernel fits the padded input n + 2p."""
    dims = draw(DIMS)
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 12)) for _ in range(dims)]
    padding = draw(
        st.one_of(
            st.just("same"),
            st.just("valid"),
            st.lists(st.integers(0, 3), min_size=dims, max_size=dims),
        )
    )
    pads = padding if isinstance(padding, list) else [0] * dims
    stride = [1] * dims if padding == "same" else [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    if padding == "same":  # pads whatever the kernel needs: any kernel fits
        kernel = [draw(st.integers(1, 5)) for _ in range(dims)]
    else:
        largest = [largest_fitting(n + 2 * p, d) for n, p, d in zip(sizes, pads, dilation)]
        kernel = [draw(st.integers(1, min(5, k))) for k in largest]
        outside(draw, kernel, largest)
    bias = draw(st.booleans())
    return dims, c_in, groups, c_out, sizes, kernel, stride, dilation, padding, bias


def conv_layer(case):
    """(input, YAML layer, PyTorch's call) of a conv case."""
    dims, c_in, groups, c_out, sizes, kernel, stride, dilation, padding, bias = case
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]

    def run():
        w = torch.zeros([c_out, c_in // groups] + kernel)
        b = torch.zeros(c_out) if bias else None
        x = torch.zeros([1, c_in] + sizes)
        return conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    layer = (
        f"{{conv: {c_out}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
        f"dilation: {dilation}, groups: {groups}, bias: {str(bias).lower()}}}"
    )
    return [c_in] + sizes, layer, run


@settings(max_examples=700, deadline=None)
@given(conv_case())
def test_conv_shapes_and_validity_agree_with_pytorch(case):
    agree(*conv_layer(case))


@st.composite
def pool_case(draw):
    """A pooling layer inside PyTorch's valid region: padding at most half the kernel, the
    (dilated) window fits the padded input, average pooling undilated, and 3-D average
    pooling's kernel no longer than the input (PyTorch's avg_pool3d rule)."""
    dims = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["max", "avg"]))
    sizes = [draw(st.integers(1, 12)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)] if mode == "max" else [1] * dims
    kernel, padding = [], []
    for n, d in zip(sizes, dilation):
        high = min(5, n) if mode == "avg" and dims == 3 else 5
        # k may take a padding of k // 2 at most: it fits if d·(k − 1) + 1 ≤ n + 2·(k // 2)
        fits = [k for k in range(1, high + 1) if d * (k - 1) + 1 <= n + 2 * (k // 2)]
        k = draw(st.sampled_from(fits))
        least = max(0, -(-(d * (k - 1) + 1 - n) // 2))  # the padding it needs to fit
        kernel.append(k)
        padding.append(draw(st.integers(least, min(3, k // 2))))
    outside(
        draw,
        kernel,
        [largest_fitting(n + 2 * p, d) for n, p, d in zip(sizes, padding, dilation)],
    )
    stride = [draw(st.integers(1, 4)) for _ in range(dims)]
    ceil = draw(st.booleans())
    include_pad = draw(st.booleans())
    return dims, sizes, kernel, stride, padding, mode, dilation, ceil, include_pad


def pool_layer(case):
    """(input, YAML layer, PyTorch's call) of a pooling case."""
    dims, sizes, kernel, stride, padding, mode, dilation, ceil, include_pad = case
    x = torch.zeros([1, 2] + sizes)
    if mode == "max":
        fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[dims - 1]
        run = lambda: fn(x, kernel, stride, padding, dilation, ceil_mode=ceil)
        extra = f", dilation: {dilation}"
    else:
        fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[dims - 1]
        run = lambda: fn(x, kernel, stride, padding, ceil_mode=ceil, count_include_pad=include_pad)
        extra = f", count_include_pad: {str(include_pad).lower()}"
    layer = (
        f"{{pool: {mode}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
        f"ceil_mode: {str(ceil).lower()}{extra}}}"
    )
    return [2] + sizes, layer, run


@settings(max_examples=700, deadline=None)
@given(pool_case())
def test_pool_shapes_and_validity_agree_with_pytorch(case):
    agree(*pool_layer(case))


@st.composite
def deconv_case(draw):
    """A transposed conv inside PyTorch's valid region: groups divide both channel counts,
    output_padding < max(stride, dilation), and the padding leaves an output of at least 1:
    2p ≤ (n − 1)·s + d·(k − 1) + output_padding."""
    dims = draw(DIMS)
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 8)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 4)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
    padding = [
        draw(st.integers(0, min(3, ((n - 1) * s + d * (k - 1) + o) // 2)))
        for n, k, s, d, o in zip(sizes, kernel, stride, dilation, output_padding)
    ]
    if draw(st.integers(1, OUTSIDE)) == 1:  # just outside: output_padding as large as allowed + 1
        axis = draw(st.integers(0, dims - 1))
        output_padding[axis] = max(stride[axis], dilation[axis])
    return dims, c_in, c_out, groups, sizes, kernel, stride, padding, output_padding, dilation


def deconv_layer(case):
    """(input, YAML layer, PyTorch's call) of a transposed conv case."""
    dims, c_in, c_out, groups, sizes, kernel, stride, padding, output_padding, dilation = case
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]

    def run():
        w = torch.zeros([c_in, c_out // groups] + kernel)
        x = torch.zeros([1, c_in] + sizes)
        return fn(x, w, None, stride, padding, output_padding, groups, dilation)

    layer = (
        f"{{deconv: {c_out}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
        f"output_padding: {output_padding}, dilation: {dilation}, groups: {groups}}}"
    )
    return [c_in] + sizes, layer, run


@settings(max_examples=500, deadline=None)
@given(deconv_case())
def test_transposed_conv_shapes_and_validity_agree_with_pytorch(case):
    agree(*deconv_layer(case))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda d: st.tuples(
            st.lists(st.integers(1, 12), min_size=d, max_size=d),
            st.lists(st.integers(1, 7), min_size=d, max_size=d),
        )
    )
)
def test_adaptive_pool_shapes_agree_with_pytorch(case):
    sizes, out = case
    fn = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[len(sizes) - 1]
    agree([3] + sizes, f"{{adaptive: {out}}}", lambda: fn(torch.zeros([1, 3] + sizes), out))


def test_same_padding_with_stride_follows_tensorflow_where_pytorch_refuses():
    """TensorFlow's rule: out = ⌈n/s⌉; PyTorch refuses 'same' with stride > 1."""
    assert predicted([1, 7, 7], "{conv: 1, kernel: 3, stride: 2, padding: same}") == (1, 4, 4)
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=2, padding="same")
