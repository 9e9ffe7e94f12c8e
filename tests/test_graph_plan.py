"""A spec's plan (its layers' names, references and depth: all that does not depend on the
input) is made once and kept on the spec, so that later analyses at other sizes (a sweep)
only run the shapes (issue 11). These tests check that nothing the plan keeps can go stale:
an analysis of a spec that was analysed before, at another size, equals an analysis of a
fresh load at that size, and the spec the plan was made from cannot be changed.

Sizes are derived by hand: a conv or pool gives ⌊(n + 2p − k)/s⌋ + 1; ResNet-50 halves
its input five times (the stem conv, the max pool, layers 2–4), so 224 → 7 and 160 → 5.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from pydantic import ValidationError

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.model.graph import plan
from cnncalc.model.spec import Branch, Group, Join, Leaf, Repeat

pytestmark = pytest.mark.fast


def layer_rows(analysis) -> list[tuple]:
    """What an analysis says of each layer: name, kind, shapes, field, depth and counts."""
    return [
        (r.name, r.kind, r.in_shape, r.out_shape, r.rf, r.jump, r.depth, r.params, r.figures)
        for r in analysis.layers
    ]


def totals(analysis) -> dict:
    """Every total, the textbooks' sums of quantities (weights, maps, connections) too."""
    total = analysis.total
    found = {f.name: getattr(total, f.name) for f in dataclasses.fields(total)}
    basis = found.pop("basis")
    found.update({term: basis.value(term) for term in ("weights", "maps", "connections")})
    return found


@pytest.mark.parametrize(
    ("net", "sizes"),
    [
        ("resnet50", [(3, 224, 224), (3, 160, 160), (3, 224, 224)]),
        ("densenet121", [(3, 224, 224), (3, 96, 96)]),
        ("googlenet", [(3, 224, 224), (3, 320, 320)]),
        # the crops take the size of a named layer (match:), different at each tile
        ("unet-2015", [(1, 572, 572), (1, 700, 700)]),
    ],
)
def test_a_spec_analysed_at_one_size_then_another_equals_a_fresh_load_at_each(net, sizes):
    kept = load(net)
    for size in sizes:
        again, fresh = analyze(kept, input=size), analyze(load(net), input=size)
        assert layer_rows(again) == layer_rows(fresh)
        assert totals(again) == totals(fresh)
        assert (again.output, again.outputs, again.resized) == (
            fresh.output,
            fresh.outputs,
            fresh.resized,
        )
    assert plan(kept) is plan(kept)  # made once: the later sizes reused it


def test_resnet50_kept_spec_halves_160_five_times_to_5():
    """224/2⁵ = 7 and 160/2⁵ = 5 before the average pool, whichever size the spec was
    analysed at first."""
    spec = load("resnet50")

    def before_pool(size):
        layers = analyze(spec, input=size).layers
        return next(r for r in layers if r.name == "avgpool").in_shape

    assert before_pool((3, 224, 224)) == (2048, 7, 7)
    assert before_pool((3, 160, 160)) == (2048, 5, 5)
    assert before_pool((3, 224, 224)) == (2048, 7, 7)


TWO_SIZES = """
name: a crop that follows a named layer
input: 4x32x32
layers:
  - {conv: 4, kernel: 3, padding: 0, name: small}
  - {conv: 4, kernel: 1, from: input}
  - {crop: , match: small}
"""


def test_a_crop_matches_the_named_layer_at_each_input_size():
    """small: 32 − 3 + 1 = 30 at 32, 20 − 3 + 1 = 18 at 20; the crop follows it each time,
    though the spec was analysed at 32 first."""
    spec = loads(TWO_SIZES)
    assert build(spec).nodes[-1].out_shape == (4, 30, 30)
    assert build(spec, (4, 20, 20)).nodes[-1].out_shape == (4, 18, 18)
    assert build(spec).nodes[-1].out_shape == (4, 30, 30)


def test_a_spec_with_its_plan_pickles_and_analyses_alike():
    """The kept plan travels with the spec (a copy to another process) and stays exact."""
    spec = loads(TWO_SIZES)
    build(spec)
    copy = pickle.loads(pickle.dumps(spec))
    assert build(copy, (4, 20, 20)).nodes[-1].out_shape == (4, 18, 18)
    assert layer_rows(analyze(copy)) == layer_rows(analyze(loads(TWO_SIZES)))


def every_item(items):
    """Every item of a spec's layers, at any depth, with the branches of its joins."""
    for item in items:
        yield item
        if isinstance(item, Join):
            for branch in item.branches:
                yield branch
                yield from every_item(branch.items)
        elif not isinstance(item, Leaf):
            yield from every_item(item.items)


@pytest.mark.parametrize("net", ["resnet50", "googlenet", "unet-2015", "mobilenet-v2"])
def test_nothing_a_plan_is_made_from_can_be_changed(net):
    """The spec, its items and their layers are frozen, and every sequence is a tuple: the
    kept plan cannot go stale while the spec lives."""
    spec = load(net)
    analyze(spec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.layers = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.input = (3, 32, 32)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.outputs = None  # type: ignore[misc]
    assert isinstance(spec.layers, tuple)
    items = list(every_item(spec.layers))
    assert items
    for item in items:
        assert isinstance(item, (Leaf, Join, Group, Repeat, Branch))
        # a frozen dataclass, or a named tuple (a tuple's fields cannot be set)
        frozen = getattr(type(item), "__dataclass_params__", None)
        assert frozen.frozen if frozen else isinstance(item, tuple)
        with pytest.raises((dataclasses.FrozenInstanceError, AttributeError)):
            item.where = None  # type: ignore[misc]
        if not isinstance(item, Leaf) and not isinstance(item, Join):
            assert isinstance(item.items, tuple)
        if isinstance(item, Join):
            assert isinstance(item.branches, tuple)
    leaf = next(i for i in items if isinstance(i, Leaf))
    with pytest.raises(dataclasses.FrozenInstanceError):
        leaf.name = "renamed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        leaf.layer.call = "function"  # type: ignore[misc]
