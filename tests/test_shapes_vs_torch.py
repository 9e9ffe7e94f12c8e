"""cnncalc's shape rules against PyTorch, on thousands of random single layers.

For each random configuration either both accept it and the shapes are equal, or both
reject it (cnncalc with a clear CnnCalcError, PyTorch with an exception). The one
deliberate differences: padding 'same' with a stride above 1 (TensorFlow/Keras define it,
PyTorch refuses it) is kept out of the draw and tested on its own; an empty output, which
PyTorch's transposed conv lets through, cnncalc refuses.
"""

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


def predicted(input_shape, layer_yaml):
    text = f"input: {list(input_shape)}\nlayers:\n  - {layer_yaml}\n"
    try:
        return build(loads(text)).out_shape
    except CnnCalcError as exc:
        assert str(exc)  # a message, never an empty error
        return None


def actual(fn):
    """PyTorch's output shape, or None when it refuses the configuration. An empty output
    (a transposed conv whose padding crops everything gives 0) counts as refused: cnncalc
    rejects a map of size 0 as the mistake it is."""
    try:
        with torch.no_grad():
            shape = tuple(fn().shape[1:])
    except (RuntimeError, ValueError):
        return None
    return None if 0 in shape else shape


def agree(input_shape, layer_yaml, fn):
    want = actual(fn)
    got = predicted(input_shape, layer_yaml)
    assert got == want, f"{layer_yaml} on {input_shape}: cnncalc {got}, PyTorch {want}"


@st.composite
def conv_case(draw):
    dims = draw(DIMS)
    c_in = draw(st.integers(1, 6))
    groups = draw(st.integers(1, 3))
    c_out = draw(st.integers(1, 6))
    sizes = [draw(st.integers(1, 12)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 5)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    padding = draw(
        st.one_of(
            st.just("same"),
            st.just("valid"),
            st.lists(st.integers(0, 3), min_size=dims, max_size=dims),
        )
    )
    if padding == "same":
        stride = [1] * dims
    bias = draw(st.booleans())
    return dims, c_in, groups, c_out, sizes, kernel, stride, dilation, padding, bias


@settings(max_examples=700, deadline=None)
@given(conv_case())
def test_conv_shapes_and_validity_agree_with_pytorch(case):
    dims, c_in, groups, c_out, sizes, kernel, stride, dilation, padding, bias = case
    x = torch.zeros([1, c_in] + sizes)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    w_in = c_in // groups if c_in % groups == 0 else 1

    def run():
        if c_out % groups or c_in % groups:
            raise RuntimeError("groups")
        w = torch.zeros([c_out, w_in] + kernel)
        return conv(
            x,
            w,
            torch.zeros(c_out) if bias else None,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
        )

    pad_yaml = padding if isinstance(padding, str) else list(padding)
    agree(
        [c_in] + sizes,
        f"{{conv: {c_out}, kernel: {kernel}, stride: {stride}, padding: {pad_yaml}, "
        f"dilation: {dilation}, groups: {groups}, bias: {str(bias).lower()}}}",
        run,
    )


@st.composite
def pool_case(draw):
    dims = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 12)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 5)) for _ in range(dims)]
    stride = [draw(st.integers(1, 4)) for _ in range(dims)]
    padding = [draw(st.integers(0, 3)) for _ in range(dims)]
    mode = draw(st.sampled_from(["max", "avg"]))
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)] if mode == "max" else [1] * dims
    ceil = draw(st.booleans())
    include_pad = draw(st.booleans())
    return dims, sizes, kernel, stride, padding, mode, dilation, ceil, include_pad


@settings(max_examples=700, deadline=None)
@given(pool_case())
def test_pool_shapes_and_validity_agree_with_pytorch(case):
    dims, sizes, kernel, stride, padding, mode, dilation, ceil, include_pad = case
    x = torch.zeros([1, 2] + sizes)
    if mode == "max":
        fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[dims - 1]
        run = lambda: fn(x, kernel, stride, padding, dilation, ceil_mode=ceil)  # noqa: E731
        extra = f", dilation: {dilation}"
    else:
        fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[dims - 1]
        run = lambda: fn(
            x,
            kernel,
            stride,
            padding,
            ceil_mode=ceil,  # noqa: E731
            count_include_pad=include_pad,
        )
        extra = f", count_include_pad: {str(include_pad).lower()}"
    agree(
        [2] + sizes,
        f"{{pool: {mode}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
        f"ceil_mode: {str(ceil).lower()}{extra}}}",
        run,
    )


@st.composite
def deconv_case(draw):
    dims = draw(DIMS)
    c_in, c_out, groups = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 8)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 4)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    padding = [draw(st.integers(0, 3)) for _ in range(dims)]
    output_padding = [draw(st.integers(0, 2)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    return dims, c_in, c_out, groups, sizes, kernel, stride, padding, output_padding, dilation


@settings(max_examples=500, deadline=None)
@given(deconv_case())
def test_transposed_conv_shapes_and_validity_agree_with_pytorch(case):
    dims, c_in, c_out, groups, sizes, kernel, stride, padding, output_padding, dilation = case
    x = torch.zeros([1, c_in] + sizes)
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]

    def run():
        if c_in % groups or c_out % groups:
            raise RuntimeError("groups")
        w = torch.zeros([c_in, c_out // groups] + kernel)
        return fn(x, w, None, stride, padding, output_padding, groups, dilation)

    agree(
        [c_in] + sizes,
        f"{{deconv: {c_out}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
        f"output_padding: {output_padding}, dilation: {dilation}, groups: {groups}}}",
        run,
    )


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
