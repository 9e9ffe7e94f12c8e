"""cnncalc.model.onnxproto: ONNX's protobuf read by hand, checked against the onnx package.

The oracle is the onnx package's own parse (protobuf's generated classes, onnx.helper's
get_attribute_value, numpy_helper.to_array) of the same bytes: every node, attribute,
small constant, weight's dims and input shape must read the same.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.model.onnx_import import NEWEST_OPSET  # noqa: E402
from cnncalc.model.onnxproto import ProtoError, parse_model, read_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _every_kind_of_field() -> onnx.ModelProto:
    """A model that uses each field the reader reads, in each encoding ONNX writes:
    raw_data and float_data/int64_data tensors, negative int64 attributes, a float, a
    string, a tensor attribute, symbolic and fixed dims, a large weight."""
    weight = numpy_helper.from_array(np.arange(128 * 3 * 7 * 7, dtype=np.float32), "conv.weight")
    weight.dims[:] = [128, 3, 7, 7]
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "conv.weight"],
            ["c"],
            name="conv",
            kernel_shape=[7, 7],
            pads=[3, 3, 3, 3],
            strides=[2, 2],
        ),
        helper.make_node("LeakyRelu", ["c"], ["l"], name="leaky", alpha=0.125),
        helper.make_node(
            "Constant",
            [],
            ["shape"],
            value=helper.make_tensor("s", TensorProto.INT64, [2], [0, -1]),
        ),
        helper.make_node("Reshape", ["l", "shape"], ["r"], name="flat"),
        helper.make_node("Constant", [], ["half"], value_float=0.5),
        helper.make_node("Constant", [], ["axes"], value_ints=[-2, -1]),
        helper.make_node("Resize", ["r", "", "scales"], ["y"], mode="linear", name="up"),
    ]
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0])
    graph = helper.make_graph(
        nodes,
        "every_field",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[weight, scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.producer_name, model.producer_version = "hand", "1.0"
    return model


def _same_as_onnx(ours, proto) -> None:
    assert ours.ir_version == proto.ir_version
    assert (ours.producer_name, ours.producer_version) == (
        proto.producer_name,
        proto.producer_version,
    )
    assert ours.opset_import == [(o.domain, o.version) for o in proto.opset_import]
    g, pg = ours.graph, proto.graph
    assert g.name == pg.name
    assert len(g.node) == len(pg.node)
    for node, pnode in zip(g.node, pg.node):
        assert (node.name, node.op_type, node.domain) == (pnode.name, pnode.op_type, pnode.domain)
        assert (node.input, node.output) == (list(pnode.input), list(pnode.output))
        assert [a.name for a in node.attribute] == [a.name for a in pnode.attribute]
        for a, pa in zip(node.attribute, pnode.attribute):
            expected = helper.get_attribute_value(pa)
            if isinstance(expected, TensorProto):
                assert np.array_equal(a.value.array(), numpy_helper.to_array(expected))
            elif isinstance(expected, float):
                assert a.value == pytest.approx(expected, rel=1e-7)
            else:
                assert a.value == (
                    expected if isinstance(expected, (int, bytes)) else list(expected)
                )
    assert [(t.name, t.dims, t.data_type) for t in g.initializer] == [
        (t.name, tuple(t.dims), t.data_type) for t in pg.initializer
    ]
    for tensor, ptensor in zip(g.initializer, pg.initializer):
        if not tensor.too_large:
            assert np.array_equal(tensor.array(), numpy_helper.to_array(ptensor))
    for info, pinfo in zip(g.input + g.output, list(pg.input) + list(pg.output)):
        assert info.name == pinfo.name
        dims = pinfo.type.tensor_type.shape.dim
        if info.shape is not None:
            assert [(d.value, d.param) for d in info.shape] == [
                (d.dim_value if d.HasField("dim_value") else None, d.dim_param) for d in dims
            ]


def test_every_field_reads_as_the_onnx_package_reads_it():
    proto = _every_kind_of_field()
    _same_as_onnx(parse_model(proto.SerializeToString()), proto)


def test_a_weight_keeps_its_dims_not_its_bytes():
    model = parse_model(_every_kind_of_field().SerializeToString())
    weight = model.graph.initializer[0]
    assert weight.dims == (128, 3, 7, 7) and weight.too_large and weight.raw is None


def test_a_torch_export_reads_as_the_onnx_package_reads_it(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.Hardswish(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 4),
    )
    path = tmp_path / "net.onnx"
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 16, 16),), str(path), dynamo=False)
    _same_as_onnx(read_file(path), onnx.load(str(path)))


@pytest.mark.parametrize("cut", [1, 7, 100, -3])
def test_a_cut_file_is_a_proto_error(cut):
    whole = _every_kind_of_field().SerializeToString()
    with pytest.raises(ProtoError):
        parse_model(whole[:cut] if cut > 0 else whole[: len(whole) + cut])


def test_the_newest_opset_read_is_one_the_onnx_package_knows():
    """The reader claims no opset newer than the onnx release the tests run."""
    assert NEWEST_OPSET <= onnx.defs.onnx_opset_version()


def test_importing_a_file_loads_neither_onnx_nor_numpy(tmp_path):
    """The speed of `cnncalc import` (issue 13): a plain CNN reads without the onnx
    package (protobuf, numpy, the operator schemas: most of a second to import)."""
    proto = _every_kind_of_field()
    del proto.graph.node[2:]  # conv, leaky relu
    proto.graph.output[0].name = "l"
    path = tmp_path / "plain.onnx"
    path.write_bytes(proto.SerializeToString())
    code = (
        "import sys; from pathlib import Path\n"
        "from cnncalc.model.onnx_import import onnx_to_yaml\n"
        f"text = onnx_to_yaml(Path({str(path)!r}), input=(3, 224, 224))\n"
        "assert 'conv: 128' in text, text\n"
        "print(sorted(m for m in ('onnx', 'numpy', 'google.protobuf') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
