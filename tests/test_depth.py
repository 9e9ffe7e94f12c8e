"""``--depth N`` folds layers into their blocks by their dotted names (issue 10 §2).

Each block's subtotal is checked against the block's parameters and operations written
out from the architecture (torchvision's ResNet and GoogLeNet), not against a sum of
cnncalc's own rows.
"""

from __future__ import annotations

import json

import pytest

from cnncalc.analysis.fold import fold_names, layer_path


def run_json(cli, *args):
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def blocks_by_name(report: dict) -> dict[str, dict]:
    return {b["name"]: b for b in report["blocks"]}


def bn(c: int) -> int:
    """BatchNorm's trainable params: a scale and a shift per channel."""
    return 2 * c


def conv(c_in: int, c_out: int, k: int) -> int:
    """A bias-free k×k conv's weights (torchvision's ResNet and GoogLeNet convs have none)."""
    return c_in * c_out * k * k


BASIC_64 = 2 * conv(64, 64, 3) + 2 * bn(64)
"""ResNet's basic block at 64 channels: two 3×3 convs, each with its BatchNorm."""


def test_resnet18_layer1_params_are_two_basic_blocks(cli):
    report = run_json(cli, "params", "resnet18", "--depth", "1")
    assert blocks_by_name(report)["layer1"]["params"] == 2 * BASIC_64 == 147_968


def test_resnet18_layer2_params_include_the_downsample(cli):
    first = conv(64, 128, 3) + conv(128, 128, 3) + 2 * bn(128) + conv(64, 128, 1) + bn(128)
    second = 2 * conv(128, 128, 3) + 2 * bn(128)
    report = run_json(cli, "params", "resnet18", "--depth", "1")
    assert blocks_by_name(report)["layer2"]["params"] == first + second == 525_568


def test_resnet18_depth2_folds_each_basic_block(cli):
    blocks = blocks_by_name(run_json(cli, "params", "resnet18", "--depth", "2"))
    assert blocks["layer1.0"]["params"] == BASIC_64
    assert blocks["layer1.1"]["params"] == BASIC_64
    assert blocks["layer1.0"]["out_shape"] == [64, 56, 56]
    assert blocks["layer4.1"]["params"] == 2 * conv(512, 512, 3) + 2 * bn(512)


def test_resnet18_block_macs_are_their_convs(cli):
    """MACs of a conv: output positions × c_out × c_in × k² (bias and BN not counted)."""
    blocks = blocks_by_name(run_json(cli, "flops", "resnet18", "--depth", "1"))
    assert blocks["layer1"]["macs"] == 4 * (56 * 56 * 64 * 64 * 9)
    at7 = 7 * 7
    layer4 = (
        at7 * 512 * 256 * 9  # layer4.0.conv1, stride 2 from 14×14
        + at7 * 512 * 512 * 9  # layer4.0.conv2
        + at7 * 512 * 256  # layer4.0.downsample, 1×1 stride 2
        + 2 * at7 * 512 * 512 * 9  # layer4.1.conv1 and conv2
    )
    assert blocks["layer4"]["macs"] == layer4
    assert blocks["layer4"]["flops"] == 2 * layer4


def test_each_block_gives_the_shape_coming_out_of_it(cli):
    blocks = blocks_by_name(run_json(cli, "shape", "resnet50", "--depth", "1"))
    expected = {  # ResNet-50: four stages of bottlenecks, expansion 4, 224 → 56, 28, 14, 7
        "layer1": [256, 56, 56],
        "layer2": [512, 28, 28],
        "layer3": [1024, 14, 14],
        "layer4": [2048, 7, 7],
        "fc": [1000],
    }
    for name, shape in expected.items():
        assert blocks[name]["out_shape"] == shape, name


def test_resnet50_at_depth_1_is_eleven_rows(cli):
    report = run_json(cli, "summary", "resnet50", "--depth", "1")
    names = [b["name"] for b in report["blocks"]]
    assert names == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "flatten",
        "fc",
    ]
    # 3, 4, 6, 3 bottlenecks: each has 3 convs, 3 BNs, 3 ReLUs and an add (10 layers), the
    # first of each stage also a downsample conv and BN
    assert [len(report["blocks"][i]["layers"]) for i in range(4, 8)] == [
        3 * 10 + 2,
        4 * 10 + 2,
        6 * 10 + 2,
        3 * 10 + 2,
    ]
    table = cli("summary", "resnet50", "--depth", "1").stdout
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert len(rows) == 11 + 1  # the blocks and the total


def test_json_keeps_every_layer_with_its_path(cli):
    plain = run_json(cli, "flops", "resnet50")
    folded = run_json(cli, "flops", "resnet50", "--depth", "2")
    assert folded["layers"] == plain["layers"]
    layer = next(l for l in plain["layers"] if l["name"] == "layer3.4.conv2")
    assert layer["path"] == ["layer3", "4", "conv2"]
    assert folded["fold_depth"] == 2


def test_googlenet_inception3a_is_one_block(cli):
    """torchvision's GoogLeNet inception 3a on 192 channels: 1×1/64; 1×1/96 → 3×3/128;
    1×1/16 → 3×3/32 (torchvision's 3×3 where the paper has 5×5); pool → 1×1/32; each conv
    with a BatchNorm."""
    convs = (
        conv(192, 64, 1)
        + conv(192, 96, 1)
        + conv(96, 128, 3)
        + conv(192, 16, 1)
        + conv(16, 32, 3)
        + conv(192, 32, 1)
    )
    norms = bn(64) + bn(96) + bn(128) + bn(16) + bn(32) + bn(32)
    block = blocks_by_name(run_json(cli, "params", "googlenet", "--depth", "1"))["inception3a"]
    assert block["params"] == convs + norms == 155_872
    assert block["buffers"] == norms  # running mean and variance per channel
    assert block["out_shape"] == [64 + 128 + 32 + 32, 28, 28]


def test_memory_folds_bytes_per_block(cli):
    """Adam keeps two fp32 states per parameter and a 4-byte step per parameter tensor:
    layer1 of ResNet-18 has 4 conv weights and 4 BatchNorms of 2 tensors each."""
    report = run_json(cli, "memory", "resnet18", "--depth", "1", "--optimizer", "adam")
    layer1 = blocks_by_name(report)["layer1"]
    params = 2 * BASIC_64
    assert layer1["params"] == 4 * params
    assert layer1["gradients"] == 4 * params
    assert layer1["optimizer"] == 2 * 4 * params + 4 * (4 + 4 * 2)


def test_memory_table_shows_the_blocks(cli):
    text = cli("memory", "resnet18", "--depth", "1").stdout
    assert "layer1" in text and "layer1.0.conv1" not in text
    assert f"{4 * 2 * BASIC_64 / 1024:.2f} KiB" in text


def test_a_table_at_depth_shows_blocks_not_layers(cli):
    text = cli("params", "resnet18", "--depth", "1").stdout
    assert "layer1.0.conv1" not in text
    assert f"{2 * BASIC_64:,}" in text
    assert "blocks to depth 1" in text


@pytest.mark.parametrize(
    "args",
    [
        ("shape", "resnet18", "--depth", "0"),
        ("flops", "resnet18", "--depth", "1", "--explain"),
        ("flops", "resnet18", "--depth", "1", "--convention", "all"),
        ("flops", "resnet18", "--depth", "1", "--by", "kind"),
        ("memory", "resnet18", "--depth", "1", "--by", "kind"),
    ],
)
def test_depth_that_cannot_apply_is_refused(cli, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_fold_names_groups_by_leading_parts_in_order():
    names = ["conv1", "layer1.0.conv1", "layer1.0.bn1", "layer1.1.conv1", "fc"]
    assert fold_names(names, 1) == [("conv1", [0]), ("layer1", [1, 2, 3]), ("fc", [4])]
    assert fold_names(names, 2) == [
        ("conv1", [0]),
        ("layer1.0", [1, 2]),
        ("layer1.1", [3]),
        ("fc", [4]),
    ]
    assert layer_path("layer1.0.downsample.0") == ("layer1", "0", "downsample", "0")
