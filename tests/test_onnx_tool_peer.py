"""onnx-tool (the ONNX profiler issue 13 compares with) beside cnncalc's conventions.

The oracle is onnx-tool 1.0.1 itself, run on the file cnncalc imports: its MACs of the
Conv and Gemm nodes are the weighted layers' multiply-accumulates with one per bias add,
cnncalc's ``ptflops-aten`` convention (and LeCun's connections, ``lenet``); its total is
not a count of operations but a cycle-cost weighting of the element-wise ones
(onnx_tool/node.py: ADD_MACS 1, MUL_MACS 1, DIV_MACS 4, SQRT_MACS 24), so a BatchNorm
costs 1 + 24 + 4 + 1 + 1 = 31 per element and no convention reproduces it.
"""

from __future__ import annotations

import pytest

from cnncalc.analysis.pipeline import build, load
from cnncalc.analysis.stats import convention_totals

pytestmark = pytest.mark.requires("torch", "onnx", "onnx_tool")

BATCH = 2


def _profile(tmp_path):
    """A small CNN with every kind of node onnx-tool weighs, exported in training mode
    (BatchNorm kept), profiled by onnx-tool: MACs per op type and the file's path."""
    import onnx_tool
    import torch

    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # with a bias
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, bias=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
    path = tmp_path / "small.onnx"
    torch.onnx.export(
        net.train(),
        (torch.zeros(BATCH, 3, 16, 16),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.TRAINING,
    )
    model = onnx_tool.Model(str(path))
    model.graph.shape_infer()
    model.graph.profile()
    by_op: dict[str, int] = {}
    for node in model.graph.nodemap.values():
        by_op[node.op_type] = by_op.get(node.op_type, 0) + int(node.macs[0])
    return path, by_op, int(model.graph.macs[0])


def test_onnx_tools_conv_and_gemm_macs_are_ptflops_aten_and_lenet(tmp_path):
    path, by_op, total = _profile(tmp_path)
    ours = {
        r.convention.name: r.figures.macs
        for r in convention_totals(build(load(str(path))), batch=BATCH).rows
    }
    # by hand, per sample: conv1 16·16·8·27 + 8·256 bias, conv2 6·6·16·72, fc 16·10 + 10
    by_hand = BATCH * (16 * 16 * 8 * 27 + 8 * 256 + 6 * 6 * 16 * 72 + 16 * 10 + 10)
    assert by_op["Conv"] + by_op["Gemm"] == by_hand == ours["ptflops-aten"] == ours["lenet"]
    assert ours["macs"] == by_hand - BATCH * (8 * 256 + 10)  # torchvision's: biases left out


def test_onnx_tools_total_weighs_a_batchnorm_31_per_element(tmp_path):
    _, by_op, total = _profile(tmp_path)
    elements = BATCH * 8 * 16 * 16
    assert by_op["BatchNormalization"] == 31 * elements
    assert total == sum(by_op.values()) > by_op["Conv"] + by_op["Gemm"]
