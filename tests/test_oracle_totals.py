"""Network totals against counts made elsewhere, not against the sum of cnncalc's own rows.

- MACs (``macs`` convention) against PyTorch's ``FlopCounterMode`` ÷ 2, parameters against
  Σ ``numel()`` and buffers against BatchNorm's running statistics, on the module that ``cnncalc export --to pytorch`` writes: the
  export is cnncalc's, but what FlopCounterMode counts is what PyTorch executes, and the
  parameters are the tensors PyTorch allocated.
- The raw operation totals (multiplications, additions, bias and branch additions,
  compares, divisions, exponentials) against the operations the numpy executor performs
  while it runs the network (the naive loops count them one by one).

The tests that check a total equals the sum of its rows (test_cli, test_conventions,
test_training*) check the table's consistency; these check the total itself.
"""

from __future__ import annotations

import types

import pytest
from zoo_params import zoo_specs

from cnncalc.analysis.pipeline import analyze, build, load
from cnncalc.errors import CnnCalcError
from cnncalc.proof.export import to_pytorch
from cnncalc.proof.verify import CHECKED

SMALL = 64
"""The side of the small input the zoo networks run at, where they accept it."""

NOT_IN_FLOP_COUNTER = {"subsample", "rbf"}
"""Weighted kinds whose MACs PyTorch's FlopCounterMode does not see: LeNet-5's
sub-sampling (a pool times a coefficient) and RBF units ((x − w)² summed) run as
element-wise ops, which it does not count."""


def small_input(spec, side: int = SMALL):
    """The network's own channels on a side×side input when it accepts one and it is
    smaller than its own, else its own input."""
    own = analyze(spec).input
    if len(own) != 3 or own[1] <= side:
        return own
    shape = (own[0], side, side)
    try:
        analyze(spec, shape)
    except CnnCalcError:
        return own
    return shape


def exported_model(torch, spec, shape):
    """The exported module, built on PyTorch's meta device: shapes and parameters without
    allocating or initialising a value (FlopCounterMode counts meta tensors too)."""
    graph = build(spec, shape)
    source = to_pytorch(graph, params=analyze(spec, shape).total.params, source="oracle")
    module = types.ModuleType("cnncalc_export_oracle")
    exec(compile(source, "<export oracle>", "exec"), module.__dict__)
    with torch.device("meta"):
        return module.build().eval()


@pytest.mark.parametrize("spec", zoo_specs())
def test_zoo_totals_match_pytorchs_flop_counter_and_parameters(spec):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    shape = small_input(spec)
    if len(shape) == 4:  # the video networks: 8 frames of 32×32 keep every stride whole
        shape = (shape[0], 8, 32, 32)
    elif prod_of(shape) > 3 * 400 * 400:  # fc-vs-conv's 3000×4000 photo: one fc layer
        shape = (shape[0], 8, 8)
    analysis = analyze(spec, shape, convention="macs")
    model = exported_model(torch, spec, shape)
    assert sum(p.numel() for p in model.parameters()) == analysis.total.params
    running = [b for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")]
    assert sum(b.numel() for b in running) == analysis.total.buffers  # BatchNorm's statistics
    if any(r.kind in NOT_IN_FLOP_COUNTER for r in analysis.layers):
        return
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros((1,) + shape, device="meta"))
    flops = counter.get_total_flops()
    assert flops % 2 == 0 and flops // 2 == analysis.total.macs


def prod_of(shape) -> int:
    result = 1
    for v in shape:
        result *= v
    return result


def test_lenet5_macs_are_the_papers_weight_uses():
    """LeNet-5 is left out above (FlopCounterMode does not see sub-sampling or RBF): its
    MACs are written out from the paper's layers instead. C1 28²·6·25, S2 14²·6 (one
    coefficient per output), C3 10²·25·60 (the table's 60 connections), S4 5²·16,
    C5 120·400, F6 84·120, RBF 10·84 (one (x − w)² per weight)."""
    expected = (
        28 * 28 * 6 * 25
        + 14 * 14 * 6
        + 10 * 10 * 25 * 60
        + 5 * 5 * 16
        + 120 * 400
        + 84 * 120
        + 10 * 84
    )
    assert analyze(load("lenet5"), convention="macs").total.macs == expected


EXECUTED = [
    ("lenet5", None, "naive"),
    ("lenet", None, "naive"),
    ("mnist-resnet", None, "fast"),
    ("mnist-inception", None, "fast"),
    ("inception-naive", (256, 5, 5), "fast"),
    ("resnet-bottleneck", (256, 6, 6), "fast"),
    ("depthwise-separable", (512, 6, 6), "fast"),
    ("resnet18", (3, 32, 32), "fast"),
    ("googlenet", (3, 32, 32), "fast"),
    ("mobilenet-v2", (3, 32, 32), "fast"),
    ("densenet121", (3, 32, 32), "fast"),
    ("alexnet-2gpu", (3, 67, 67), "fast"),
    ("nin", (1, 96, 96), "fast"),
]


@pytest.mark.parametrize("name,shape,impl", EXECUTED)
def test_raw_totals_are_what_the_executor_performs(name, shape, impl):
    """Every raw total equals what the executor counted while it ran the network (the
    naive loops one operation at a time, the fast one from the sizes of its matrix
    products), for the whole batch of 2."""
    pytest.importorskip("numpy")
    from cnncalc.proof.executor.run import run

    spec = load(name)
    for variant in [spec] if spec.variants is None else list(spec.variants.values()):
        analysis = analyze(variant, shape, batch=2, convention="exact")
        performed = run(build(variant, shape), impl, batch=2, keep=False).count.as_dict()
        predicted = {f: getattr(analysis.total.ops, f) for f in CHECKED}
        assert predicted == performed


def test_exact_flops_are_mults_plus_adds_performed():
    """Under ``exact``, FLOPs = every multiplication and addition the naive executor
    performs (bias and branch additions included)."""
    pytest.importorskip("numpy")
    from cnncalc.proof.executor.run import run

    spec = load("lenet")
    count = run(build(spec), "naive", keep=False).count
    total = analyze(spec, convention="exact").total
    assert total.mults == count.mults
    assert total.adds == count.adds + count.bias_adds + count.eltwise_adds
