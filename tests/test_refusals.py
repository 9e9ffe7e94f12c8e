"""Each kind of invalid layer on its own: cnncalc refuses it with one line naming file, YAML
line and field (exit code 2), and PyTorch refuses the same configuration too, with its own
message, where PyTorch can express it. The hypothesis draws of test_shapes_vs_torch.py stay
inside the valid region; these are the region's edges."""

from __future__ import annotations

import re

import pytest
from needs import optional_module

torch = optional_module("torch")


def zeros(*shape):
    return torch.zeros(shape)


# name: (input, layer, field, cnncalc's message, PyTorch's call, PyTorch's message)
REFUSED = {
    "conv-groups-do-not-divide-the-input": (
        "[3, 8, 8]", "{conv: 4, kernel: 3, groups: 2}", "groups",
        "groups 2 must divide both the input channels 3 and the output channels 4",
        lambda: torch.nn.functional.conv2d(zeros(1, 3, 8, 8), zeros(4, 1, 3, 3), groups=2),
        "Given groups=2",
    ),
    "conv-groups-do-not-divide-the-output": (
        "[4, 8, 8]", "{conv: 3, kernel: 3, groups: 2}", "groups",
        "groups 2 must divide both the input channels 4 and the output channels 3",
        lambda: torch.nn.functional.conv2d(zeros(1, 4, 8, 8), zeros(3, 2, 3, 3), groups=2),
        "Given groups=2, expected weight to be divisible by 2",
    ),
    "conv-kernel-larger-than-the-input": (
        "[1, 4, 4]", "{conv: 1, kernel: 5}", "kernel",
        "kernel 5 is larger than the padded input 4 along h",
        lambda: torch.nn.functional.conv2d(zeros(1, 1, 4, 4), zeros(1, 1, 5, 5)),
        "Kernel size can't be greater than actual input size",
    ),
    "conv-dilated-kernel-larger-than-the-input": (  # extent 2·(3 − 1) + 1 = 5 > 4
        "[1, 4, 4]", "{conv: 1, kernel: 3, dilation: 2}", "kernel",
        "kernel 5 is larger than the padded input 4 along h",
        lambda: torch.nn.functional.conv2d(zeros(1, 1, 4, 4), zeros(1, 1, 3, 3), dilation=2),
        "Kernel size can't be greater than actual input size",
    ),
    "pool-padding-over-half-the-kernel": (
        "[1, 8, 8]", "{pool: max, kernel: 2, padding: 2}", "padding",
        "padding 2 along h is more than half the kernel 2 (at most 1, as PyTorch requires)",
        lambda: torch.nn.functional.max_pool2d(zeros(1, 1, 8, 8), 2, 2, 2),
        "pad should be at most half of effective kernel size",
    ),
    "pool-kernel-larger-than-the-input": (
        "[1, 3, 3]", "{pool: avg, kernel: 5, stride: 1}", "kernel",
        "kernel 5 is larger than the padded input 3 along h",
        lambda: torch.nn.functional.avg_pool2d(zeros(1, 1, 3, 3), 5, 1),
        "Output size is too small",
    ),
    "pool-kernel-larger-than-the-input-with-ceil-mode": (  # ⌈(3 − 5)/1⌉ + 1 = −1 windows
        "[1, 3]", "{pool: max, kernel: 5, stride: 1, ceil_mode: true}", "kernel",
        "kernel 5 is larger than the padded input 3 along l",
        lambda: torch.nn.functional.max_pool1d(zeros(1, 1, 3), 5, 1, 0, ceil_mode=True),
        "Invalid computed output size",
    ),
    "padding-pairs-for-another-dimension": (
        "[1, 4, 4]", "{conv: 1, kernel: 1, padding: [[0, 1]]}", "padding",
        "needs 2 pairs [before, after]", None, None,
    ),
    "padding-with-three-values-on-two-axes": (
        "[1, 4, 4]", "{conv: 1, kernel: 1, padding: [1, 1, 1]}", "padding",
        "has 3 values; for 2 spatial axes give 2 (one per axis, both sides) or 4 (before and "
        "after per axis)", None, None,
    ),
    "max-pool-dilated-window-larger-than-the-input": (  # extent 2·(3 − 1) + 1 = 5 > 4
        "[1, 4]", "{pool: max, kernel: 3, stride: 1, dilation: 2}", "kernel",
        "kernel 5 is larger than the padded input 4 along l",
        lambda: torch.nn.functional.max_pool1d(zeros(1, 1, 4), 3, 1, 0, 2),
        "Invalid computed output size",
    ),
    "avg-pool-3d-input-shorter-than-the-kernel": (  # PyTorch's avg_pool3d, padding aside
        "[1, 2, 8, 8]", "{pool: avg, kernel: 3, stride: 1, padding: 1}", "kernel",
        "3-D average pooling needs every input extent ≥ its kernel",
        lambda: torch.nn.functional.avg_pool3d(zeros(1, 1, 2, 8, 8), 3, 1, 1),
        "smaller than kernel size",
    ),
    "avg-pool-has-no-dilation": (  # PyTorch's avg_pool takes no dilation argument at all
        "[1, 8, 8]", "{pool: avg, kernel: 2, dilation: 2}", "dilation",
        "average pooling has no dilation", None, None,
    ),
    "deconv-output-padding-not-below-stride-or-dilation": (
        "[1, 4, 4]", "{deconv: 1, kernel: 3, stride: 2, output_padding: 2}", "output_padding",
        "output_padding 2 must be smaller than the stride 2 or the dilation 1 along h",
        lambda: torch.nn.functional.conv_transpose2d(
            zeros(1, 1, 4, 4), zeros(1, 1, 3, 3), stride=2, output_padding=2
        ),
        "output padding must be smaller than either stride or dilation",
    ),
    "deconv-padding-crops-the-whole-output": (  # (1 − 1)·1 − 2·1 + 1·(1 − 1) + 0 + 1 = −1
        "[1, 1, 1]", "{deconv: 1, kernel: 1, padding: 1}", "padding",
        "padding 1 crops away the whole output along h",
        lambda: torch.nn.functional.conv_transpose2d(zeros(1, 1, 1, 1), zeros(1, 1, 1, 1), padding=1),
        "Output size is too small",
    ),
    "deconv-output-of-size-zero": (  # (2 − 1)·1 − 2·1 + 1·(1 − 1) + 0 + 1 = 0
        "[1, 2]", "{deconv: 1, kernel: 1, padding: 1}", "padding",
        "padding 1 crops away the whole output along l",
        lambda: torch.nn.functional.conv_transpose1d(zeros(1, 1, 2), zeros(1, 1, 1), padding=1),
        "Output size is too small",
    ),
    "deconv-groups-do-not-divide-the-input": (
        "[3, 4, 4]", "{deconv: 4, kernel: 3, groups: 2}", "groups",
        "groups 2 must divide both the input channels 3 and the output channels 4",
        lambda: torch.nn.functional.conv_transpose2d(zeros(1, 3, 4, 4), zeros(3, 2, 3, 3), groups=2),
        "Given groups=2",
    ),
    "deconv-groups-do-not-divide-the-output": (  # PyTorch's weight shape cannot say it
        "[4, 4, 4]", "{deconv: 3, kernel: 3, groups: 2}", "groups",
        "groups 2 must divide both the input channels 4 and the output channels 3", None, None,
    ),
    "batchnorm-channels-disagree": (
        "[4, 2, 2]", "{batchnorm: 3}", "batchnorm",
        "says 3 channels but its input has 4 (leave it empty to take the input's)",
        lambda: torch.nn.functional.batch_norm(zeros(1, 4, 2, 2), zeros(3), zeros(3) + 1),
        "running_mean should contain 4 elements not 3",
    ),
    "adaptive-sizes-for-another-dimension": (
        "[1, 4, 4]", "{adaptive: [2, 2, 2]}", "adaptive",
        "has 3 values but the input has 2 spatial axes",
        lambda: torch.nn.functional.adaptive_avg_pool2d(zeros(1, 1, 4, 4), (2, 2, 2)),
        "output_size must be 2",
    ),
    "gap-on-a-flat-input": (
        "[4]", "{gap: }", None, "gap needs a 1-D, 2-D or 3-D feature map", None, None,
    ),
    "adaptive-on-a-flat-input": (
        "[4]", "{adaptive: 2}", None, "adaptive needs a 1-D, 2-D or 3-D feature map", None, None,
    ),
    "subsample-window-larger-than-the-input": (  # LeNet-5's sub-sampling: no PyTorch layer
        "[1, 3, 3]", "{subsample: 4}", "kernel",
        "kernel 4 is larger than the padded input 3 along h", None, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", REFUSED)
def test_cnncalc_refuses_it_in_one_line(name, cli, yaml_file):
    shape, layer, field, message, _, _ = REFUSED[name]
    path = yaml_file(f"input: {shape}\nlayers:\n  - {layer}\n")
    result = cli("shape", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    where = "layers.0" if field is None else f"layers.0.{field}"
    assert line.startswith(f"error: {path}:3: {where}: "), line
    assert f": {message}" in line, line  # the message itself, not a word inside another


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", [n for n, case in REFUSED.items() if case[4] is not None])
def test_pytorch_refuses_it_too(name):
    *_, call, message = REFUSED[name]
    with pytest.raises(RuntimeError, match=re.escape(message)):
        call()
