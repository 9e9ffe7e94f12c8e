"""Every zoo network run three ways: the calculator predicts, the executor runs, PyTorch runs.

For each network the exported PyTorch module (``cnncalc export --to pytorch``) is built in
float64 with its own random init, its BatchNorm statistics and constant-initialised
parameters made random; its ``state_dict`` is loaded into the executor as it is (LeNet-5's
per-map table weights included). On the same input:

- every node's output shape equals the prediction and PyTorch's,
- every node's output equals PyTorch's (float64 both sides, rtol 1e-5),
- every raw count the fast executor performed equals the prediction.

Then the naive loops, the definition, against the fast executor: on the small networks at
their own input, and on the others at a tiny input where the loops stay quick.
"""

from __future__ import annotations

import numpy as np
import pytest
from needs import optional_module
from pytorch_model import torch_model

from cnncalc.analysis.pipeline import build, load
from cnncalc.analysis.stats import node_ops
from cnncalc.model.zoo import zoo_names
from cnncalc.proof.executor import OpCount
from cnncalc.proof.executor.run import random_input, run
from cnncalc.proof.verify import predicted_counts

torch = optional_module("torch")

NETWORKS = [n for n in zoo_names() if load(n).variants is None and n != "unet-2015"]
"""Every network of the zoo but the 2015 U-Net: its crops are fixed sizes, so it runs only
on its 572 x 572 tile (150 GMACs, minutes in float64 numpy); test_zoo_unet runs it through
the executor and PyTorch on a small tile instead."""
SMALL = ["lenet5", "lenet", "mnist-inception", "mnist-resnet"]
TINY_INPUTS = {
    # the smallest inputs these accept run in seconds in the naive loops; the others'
    # weights alone (AlexNet's and VGG's fc layers, DenseNet's depth) need minutes there
    "googlenet": (3, 16, 16),  # concat, ceil_mode pools, BatchNorm
    "mobilenet-v2": (3, 16, 16),  # depthwise groups, relu6, residual adds
    "resnet18": (3, 8, 8),  # residual adds, BatchNorm, strided 1x1 shortcuts
}
EXECUTOR_INPUTS = {
    # the costliest rebuilt torchvision networks run here at a smaller input, which their
    # adaptive pools accept, so that float64 numpy takes seconds instead of minutes; their
    # full-size shapes are PyTorch's in test_export and their counts in test_zoo_torchvision
    "inception-v3": (3, 75, 75),  # the smallest input torchvision accepts ("min_size")
    "mnasnet0-5": (3, 64, 64),
    "mnasnet1-0": (3, 64, 64),
    "regnet-x-400mf": (3, 64, 64),
    "resnext50-32x4d": (3, 64, 64),
    "resnext101-32x8d": (3, 64, 64),
    "wide-resnet50-2": (3, 64, 64),
    "shufflenet-v2-x0-5": (3, 64, 64),
    "shufflenet-v2-x1-0": (3, 64, 64),
    "convnext-tiny": (3, 32, 32),  # torchvision's min_size: 1 x 1 after its /32 downsampling
    "convnext-small": (3, 32, 32),
    "mobilenet-v3-small": (3, 32, 32),
    "mobilenet-v3-large": (3, 32, 32),
    "efficientnet-b0": (3, 32, 32),
    "efficientnet-b1": (3, 32, 32),
    "efficientnet-v2-s": (3, 32, 32),
    "regnet-y-400mf": (3, 64, 64),
    "r3d-18": (3, 4, 32, 32),  # 4 frames of 32 x 32 instead of 16 of 112 x 112
    "mc3-18": (3, 4, 32, 32),
    "r2plus1d-18": (3, 4, 32, 32),
}
SEED = 4


def randomised(model, seed: int):
    """Float64, and every parameter or buffer that torch initialised to one constant
    (BatchNorm's γ = 1, β = 0, mean 0, variance 1; LeNet-5's sub-sampling coefficients)
    drawn at random instead, so that folding them wrongly would show."""
    model = model.double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point() or t.numel() < 2 or not bool((t == t.flatten()[0]).all()):
                continue
            low = 0.5 if name.endswith(("running_var", "weight")) else -0.5
            t.copy_(torch.rand(t.shape, generator=gen, dtype=t.dtype) + low)
    return model


def assert_close(y: np.ndarray, ref, what: str):
    ref = ref.detach().numpy()
    assert y.shape == ref.shape, what
    # atol scaled to the layer's values: an output that cancels to near 0 has no relative digits
    np.testing.assert_allclose(
        y, ref, rtol=1e-5, atol=1e-9 * float(np.abs(ref).max() or 1.0), err_msg=what
    )


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", NETWORKS)
def test_executor_equals_pytorch_and_counts_equal_predictions(name):
    graph = build(load(name), EXECUTOR_INPUTS.get(name))
    batch = 2 if name in SMALL else 1
    model = randomised(torch_model(name), SEED)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    x = random_input(graph, batch, SEED)
    with torch.no_grad():
        reference = model(torch.from_numpy(x), return_all=True)
    result = run(graph, "fast", weights=state, x=x)
    for node, done in zip(graph.nodes, result.nodes):
        what = f"{name} {node.name} ({node.kind})"
        assert done.shape == (batch,) + node.out_shape == tuple(reference[node.index].shape), what
        assert_close(done.output, reference[node.index], what)
        assert done.count == OpCount(**predicted_counts(node_ops(node).times(batch))), what


def assert_naive_equals_fast(graph, batch: int):
    naive = run(graph, "naive", batch, seed=SEED)
    fast = run(graph, "fast", batch, seed=SEED)
    for node, n, f in zip(graph.nodes, naive.nodes, fast.nodes):
        what = f"{graph.name} {node.name} ({node.kind})"
        assert n.shape == f.shape == (batch,) + node.out_shape, what
        np.testing.assert_allclose(
            n.output,
            f.output,
            rtol=1e-9,
            atol=1e-12 * float(np.abs(f.output).max() or 1.0),
            err_msg=what,
        )
        assert n.count == f.count == OpCount(**predicted_counts(node_ops(node).times(batch))), what


@pytest.mark.parametrize("name", SMALL)
def test_naive_equals_fast_on_the_small_networks(name):
    assert_naive_equals_fast(build(load(name)), batch=1)


@pytest.mark.parametrize("name", sorted(TINY_INPUTS))
def test_naive_equals_fast_on_a_tiny_input(name):
    assert_naive_equals_fast(build(load(name), TINY_INPUTS[name]), batch=1)


@pytest.mark.requires("torch")
def test_lenet5_table_weights_scatter_into_the_dense_layout():
    """C3's state is one (1, n, 5, 5) weight per output map; map 15 sees all six S2 maps,
    map 0 sees maps 0, 1, 2 (LeCun et al. 1998, Table I)."""
    graph = build(load("lenet5"))
    model = randomised(torch_model("lenet5"), SEED)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    assert state["C3.maps.0.weight"].shape == (1, 3, 5, 5)
    assert state["C3.maps.15.weight"].shape == (1, 6, 5, 5)
    x = random_input(graph, 1, SEED)
    c3 = next(n for n in graph.nodes if n.name == "C3")
    with torch.no_grad():
        reference = model(torch.from_numpy(x), return_all=True)
    for impl in ("naive", "fast"):
        result = run(graph, impl, weights=state, x=x)
        assert_close(result.nodes[c3.index].output, reference[c3.index], f"C3 {impl}")
