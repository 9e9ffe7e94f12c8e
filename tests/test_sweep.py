"""Sweeps over input sizes and the smallest valid input: the grammar, its limits, and
minsize against PyTorch (d2l 8.4's GoogLeNet exercise asks for the minimum image size)."""

from __future__ import annotations

import gc
import re

import pytest

from cnncalc.analysis.pipeline import analyze, load, loads
from cnncalc.analysis.sweep import MAX_SIZES, expand, min_size, sweep, sweep_shapes
from cnncalc.errors import CnnCalcError


@pytest.mark.parametrize(
    "texts,shapes",
    [
        (["3x{32..128..32}"], ["3x32", "3x64", "3x96", "3x128"]),
        (["3x{7..9}"], ["3x7", "3x8", "3x9"]),
        (["3x{224,256}"], ["3x224", "3x256"]),
        (["3x{1,2}x{5,6}"], ["3x1x5", "3x1x6", "3x2x5", "3x2x6"]),  # braces multiply out
        (["3x224x224,3x{64..65}"], ["3x224x224", "3x64", "3x65"]),  # commas between shapes
        (["3x32", "3x64"], ["3x32", "3x64"]),  # what the shell splits
    ],
)
def test_expand(texts, shapes):
    assert expand(texts) == shapes


def test_one_size_means_every_spatial_axis():
    assert sweep_shapes(["3x{32..64..32}"], (3, 224, 224)) == [(3, 32, 32), (3, 64, 64)]
    assert sweep_shapes(["3x100"], (3, 50)) == [(3, 100)]  # a 1-D network: as written
    assert sweep_shapes(["3x32x48"], (3, 224, 224)) == [(3, 32, 48)]


@pytest.mark.parametrize(
    "text,message",
    [
        ("3x{32..}", "neither a range"),
        ("3x{a..b}", "neither a range"),
        ("3x{}", "neither a range"),
        ("3x{64..32}", "runs backwards"),
        ("3x{32..64..0}", "step of {32..64..0} must be at least 1"),
        ("3x{1..1000000000}", "larger than the size limit"),
        (f"3x{{1..{MAX_SIZES + 1}}}", f"more than the {MAX_SIZES}"),
        ("3x{1..20}x{1..20}", f"makes more than {MAX_SIZES}"),
        ("3x{32..64", "without its '}'"),
        ("3x32..64}", "without its '{'"),
        ("3x32,,3x64", "empty shape"),
        ("3xfoo", "is not a shape"),
    ],
)
def test_malformed_or_too_large_sweeps_are_bad_input(text, message):
    with pytest.raises(CnnCalcError, match=re.escape(message)) as err:
        sweep_shapes([text], (3, 224, 224))
    assert err.value.field == "--input"


def test_sweep_numbers_are_the_analysis_numbers():
    spec = load("resnet18")
    result = sweep(spec, [(3, 16, 16), (3, 64, 64)], batch=2)
    direct = analyze(spec, (3, 64, 64), batch=2)
    point = result.points[1]
    assert point.error is None
    assert (point.analysis.total.macs, point.analysis.total.params) == (
        direct.total.macs,
        direct.total.params,
    )
    assert result.minsize.size == (3, 1, 1)


def test_sweep_marks_sizes_that_fail_and_finds_the_smallest_that_runs():
    result = sweep(load("googlenet"), sweep_shapes(["3x{8..24..8}"], (3, 224, 224)))
    assert [p.error is None for p in result.points] == [False, True, True]
    assert "maxpool3" in result.points[0].error
    assert result.smallest_valid.input == (3, 16, 16)
    assert result.minsize.size == (3, 15, 15)


@pytest.mark.parametrize("collector_on", [True, False])
def test_a_sweep_leaves_the_garbage_collector_as_it_found_it(collector_on):
    """sweep pauses the cyclic collector while it works (issue 11: speed) and restores it,
    also when a size fails."""
    was = gc.isenabled()
    try:
        gc.enable() if collector_on else gc.disable()
        result = sweep(load("googlenet"), [(3, 8, 8), (3, 32, 32)])
        assert [p.error is None for p in result.points] == [False, True]
        assert gc.isenabled() is collector_on
    finally:
        gc.enable() if was else gc.disable()


def test_minsize_of_a_chain_by_formula():
    """conv 5×5 then pool 2: n − 4 ≥ 2, so n = 6; at 5 the pool sees 1×1."""
    spec = loads(
        "name: t\ninput: [1, 28, 28]\nlayers:\n  - {conv: 2, kernel: 5}\n"
        "  - {pool: max, kernel: 2, name: p}\n"
    )
    m = min_size(spec)
    assert m.size == (1, 6, 6) and m.below == (1, 5, 5)
    assert "layer 'p'" in m.reason


def test_minsize_gives_up_with_a_clear_error():
    spec = loads("name: t\ninput: [1, 8, 8]\nlayers:\n  - {conv: 2, kernel: 9}\n")
    with pytest.raises(CnnCalcError, match="runs on no input from 1 to 4 pixels"):
        min_size(spec, limit=4)


from needs import optional_module  # noqa: E402
from pytorch_model import torch_model  # noqa: E402

torch = optional_module("torch")


def runs_in_torch(model, shape) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros((1,) + shape))
    except RuntimeError:
        return False
    return True


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", ["googlenet", "resnet50", "vgg16", "densenet121", "alexnet"])
def test_minsize_agrees_with_pytorch(name):
    """The reported size runs in PyTorch; one pixel less fails (0 for ResNet-50, whose
    convs all pad enough to keep a 1×1 map)."""
    m = min_size(load(name))
    model = torch_model(name)
    assert runs_in_torch(model, m.size)
    below = m.below or (m.size[0],) + (0,) * (len(m.size) - 1)
    assert not runs_in_torch(model, below)
    if name == "googlenet":
        assert m.size == (3, 15, 15)
    if name == "resnet50":
        assert m.size == (3, 1, 1)
