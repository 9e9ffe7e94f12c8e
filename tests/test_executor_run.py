"""The graph runner: weights in state_dict layout, true convolution, memory, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cnncalc.analysis.pipeline import build, load, loads
from cnncalc.kinds.conv import Conv
from cnncalc.proof.executor import ExecutorError
from cnncalc.proof.executor.run import RUNNERS, LayerFailed, naive_cost, random_state, run
from cnncalc.proof.verify import peak_bytes

LENET5 = build(load("lenet5"))


def test_lenet5_counts_are_the_papers_layers():
    """C1: 6 maps of 28×28, each output 5·5 mults; C3: 10×10 outputs over the table's
    6·3 + 6·4 + 3·4 + 1·6 = 60 input maps, 5·5 each (LeCun et al. 1998)."""
    result = run(LENET5, "fast", batch=3)
    c1, s2, c3 = result.nodes[:3]
    assert c1.shape == (3, 6, 28, 28)
    assert c1.count.mults == 3 * 6 * 28 * 28 * 5 * 5
    assert c1.count.adds == 3 * 6 * 28 * 28 * (5 * 5 - 1)
    assert c1.count.bias_adds == 3 * 6 * 28 * 28
    assert s2.count.adds == 3 * 6 * 14 * 14 * (2 * 2 - 1)
    assert c3.count.mults == 3 * 10 * 10 * 5 * 5 * (6 * 3 + 6 * 4 + 3 * 4 + 1 * 6)
    assert result.output.shape == (3, 10)


def test_random_state_has_the_layers_state_dict_keys_and_is_seeded():
    state = random_state(LENET5, seed=7)
    assert state["C1.weight"].shape == (6, 1, 5, 5)
    assert state["C3.maps.0.weight"].shape == (1, 3, 5, 5)  # map 0 sees S2 maps 0, 1, 2
    assert state["C3.maps.15.weight"].shape == (1, 6, 5, 5)  # map 15 sees all six
    assert state["OUTPUT.weight"].shape == (10, 84)
    bound = 1 / np.sqrt(1 * 5 * 5)  # PyTorch's ±1/√fan_in
    assert np.abs(state["C1.weight"]).max() <= bound
    assert all(np.array_equal(state[k], random_state(LENET5, seed=7)[k]) for k in state)
    assert not np.array_equal(state["C1.weight"], random_state(LENET5, seed=8)["C1.weight"])


def test_flip_runs_true_convolution():
    """Convolution with flipped kernels == cross-correlation with the kernels reversed."""
    state = random_state(LENET5, seed=1)
    flipped = {
        k: (np.flip(v, axis=(-2, -1)).copy() if v.ndim == 4 else v) for k, v in state.items()
    }
    for impl in ("naive", "fast"):
        conv = run(LENET5, impl, weights=state, flip=True, seed=1)
        corr = run(LENET5, impl, weights=flipped, flip=False, seed=1)
        np.testing.assert_allclose(conv.output, corr.output, rtol=1e-12)
        assert conv.count == corr.count
    assert not np.allclose(run(LENET5, weights=state, seed=1).output, corr.output)


def test_keep_false_drops_outputs_but_not_the_answer():
    net = build(load("mnist-resnet"))
    kept, dropped = run(net, seed=3), run(net, seed=3, keep=False)
    assert all(n.output is None for n in dropped.nodes)
    assert [n.shape for n in kept.nodes] == [n.shape for n in dropped.nodes]
    assert [n.count for n in kept.nodes] == [n.count for n in dropped.nodes]
    np.testing.assert_array_equal(kept.output, dropped.output)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("C1.bias"), "no weights for 'C1.bias' (expected shape (6,))"),
        (
            lambda s: s.update({"C1.weight": np.zeros((6, 1, 3, 3))}),
            "'C1.weight' has shape (6, 1, 3, 3), expected (6, 1, 5, 5)",
        ),
        (
            lambda s: s.update({"C2.weight": np.zeros(1)}),
            "weights for no layer of 'LeNet-5': C2.weight",
        ),
    ],
)
def test_bad_weights_are_named(change, message):
    state = random_state(LENET5)
    change(state)
    with pytest.raises(ExecutorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(LENET5, weights=state)


def test_input_of_the_wrong_shape_is_refused():
    with pytest.raises(
        ExecutorError, match=r"input of shape \(1, 1, 28, 28\) is not \(batch, 1, 32, 32\)"
    ):
        run(LENET5, x=np.zeros((1, 1, 28, 28)))


def test_a_refused_layer_is_named_and_what_ran_before_it_is_kept(monkeypatch):
    def refuse(ops, node, xs, p, flip):
        raise ExecutorError("no")

    monkeypatch.setitem(RUNNERS, Conv, refuse)
    net = loads("input: [1, 8]\nlayers:\n  - {relu: }\n  - {conv: 2, kernel: 3, name: c}\n")
    with pytest.raises(LayerFailed, match="layer 'c' \\(conv\\): no") as info:
        run(build(net))
    assert info.value.index == 1
    assert [n.name for n in info.value.done] == ["relu"]


def test_naive_costs_are_measured():
    cost = naive_cost(repeats=1)
    assert 1e-9 < cost.per_op < 1e-4 and 0 <= cost.per_visit < 1e-3


def test_peak_bytes_is_one_layers_working_set():
    """A 3×3 conv, pad 1, 3 → 4 maps on 8×8: input 3·64, output 4·64, im2col 3·9·64 values."""
    net = build(loads("input: [3, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3, padding: 1}\n"))
    assert peak_bytes(net, batch=2) == 2 * 8 * (3 * 64 + 4 * 64 + 3 * 9 * 64)


def test_calculator_commands_never_import_numpy():
    """numpy is the executor's alone: `cnncalc shape` must not load it."""
    run_ = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnncalc", "shape", "lenet5"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in run_.stderr.splitlines() if "|" in line}
    assert "cnncalc.kinds" in imported
    assert not any(m == "numpy" or m.startswith("numpy.") for m in imported)
