"""Training memory: formulas written out, and PyTorch's own bytes.

"What is the memory footprint for the forward computation? ... for the backward
computation?" (d2l 7.4, exercises). The activations kept for backward are checked
against the tensors PyTorch autograd saves (torch.autograd.graph.saved_tensors_hooks,
each storage counted once, parameters and buffers left out); parameters, buffers,
gradients and optimizer state against the tensors PyTorch allocates.
"""

from __future__ import annotations

import pytest
from needs import optional_module
from pytorch_model import torch_model
from torchvision_model import NEW_KIND_NETWORKS

from cnncalc.analysis.memory import DTYPES, OPTIMIZERS
from cnncalc.analysis.pipeline import load, loads, memory
from cnncalc.errors import CnnCalcError

torch = optional_module("torch")


def torch_dtype(name: str):
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[name]


def net(layers: str, input: str = "[3, 8, 8]"):
    return loads(f"name: t\ninput: {input}\nlayers:\n{layers}")


def layer(m, name):
    return next(l for l in m.layers if l.name == name)


def test_bytes_per_dtype_and_states_per_optimizer():
    assert DTYPES == {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
    assert {n: o.states for n, o in OPTIMIZERS.items()} == {"sgd": 0, "momentum": 1, "adam": 2}


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16", "int8"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_conv_relu_fc_by_formula(dtype, optimizer):
    """conv 3→4, 3×3 on 8×8 (6×6 out), ReLU, fc 144→10, batch 5."""
    width, b = DTYPES[dtype], 5
    states = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer]
    step = 4 if optimizer == "adam" else 0  # Adam's float32 step, per parameter tensor
    m = memory(
        net("  - {conv: 4, kernel: 3, name: c}\n  - {relu: , name: r}\n  - {fc: 10, name: f}"),
        batch=b,
        dtype=dtype,
        optimizer=optimizer,
    )
    conv_params, fc_params = 4 * 3 * 3 * 3 + 4, 10 * 144 + 10
    c, r, f = layer(m, "c"), layer(m, "r"), layer(m, "f")
    assert (c.params, c.gradients) == (conv_params * width, conv_params * width)
    assert c.optimizer == states * conv_params * width + 2 * step
    assert f.optimizer == states * fc_params * width + 2 * step
    # kept: the input (conv's dW), ReLU's output (its own mask and fc's dW); conv's output
    # is read by nobody's backward (ReLU reads its output), so it is not kept
    assert m.input_kept == 3 * 8 * 8 * b * width
    assert c.activations == 0
    assert r.activations == 4 * 6 * 6 * b * width and set(r.kept_for) == {"r", "f"}
    assert f.activations == 0
    assert (
        m.total
        == (conv_params + fc_params) * width * (2 + states)
        + 4 * step
        + (3 * 8 * 8 + 4 * 6 * 6) * b * width
    )


def test_max_pool_indices_are_int64_and_batchnorm_keeps_two_stats():
    m = memory(
        net(
            "  - {conv: 4, kernel: 1}\n  - {batchnorm: , name: bn}\n"
            "  - {pool: max, kernel: 2, name: p}"
        ),
        batch=2,
        dtype="fp16",
    )
    bn, p = layer(m, "bn"), layer(m, "p")
    assert bn.buffers == 2 * 4 * 2 + 8  # running mean/var fp16, int64 counter
    assert bn.activations == 4 * 8 * 8 * 2 * 2 + 2 * 4 * 2  # output (pool's input) + mean, 1/σ
    assert p.activations == 4 * 4 * 4 * 2 * 8  # indices, int64 whatever the dtype


def test_nothing_kept_before_the_first_trained_layer():
    m = memory(
        net(
            "  - {relu: , name: r}\n  - {pool: max, kernel: 2, name: p}\n"
            "  - {conv: 4, kernel: 1, name: c}"
        )
    )
    assert layer(m, "r").activations == 0
    p = layer(m, "p")  # no indices: its backward never runs,
    assert p.kept_what == ("output",) and p.kept_for == ("c",)  # but the conv keeps its input
    assert p.activations == 3 * 4 * 4 * 4


def test_unknown_dtype_and_optimizer_are_bad_input():
    with pytest.raises(CnnCalcError, match="unknown dtype 'fp64'"):
        memory(load("lenet5"), dtype="fp64")
    with pytest.raises(CnnCalcError, match="unknown optimizer 'lbfgs'"):
        memory(load("lenet5"), optimizer="lbfgs")


def torch_memory(model, x):
    """(bytes autograd saves, state_dict bytes, gradient bytes, {optimizer: state bytes})."""
    own = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    saved = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = model(x)
    y.float().sum().backward()
    optimizers = {
        "sgd": torch.optim.SGD(model.parameters(), lr=0.1),
        "momentum": torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        "adam": torch.optim.Adam(model.parameters()),
    }
    states = {}
    for name, opt in optimizers.items():
        opt.step()
        states[name] = sum(
            v.nbytes for s in opt.state.values() for v in s.values() if torch.is_tensor(v)
        )
    return (
        sum(saved.values()),
        sum(v.nbytes for v in model.state_dict().values()),
        sum(p.grad.nbytes for p in model.parameters()),
        states,
    )


NETWORKS = [
    ("resnet18", (3, 64, 64)),
    ("vgg16", (3, 64, 64)),
    ("googlenet", (3, 64, 64)),
    ("densenet121", (3, 64, 64)),
    ("mobilenet-v2", (3, 64, 64)),
    ("alexnet", (3, 64, 64)),
    ("alexnet-2gpu", None),
    ("lenet", None),
    ("nin", None),
    ("mnist-resnet", None),
    ("mnist-inception", None),
]


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name,input", NETWORKS)
def test_memory_equals_pytorch(name, input):
    """Every native-kind zoo network, training mode, batch 2, fp32."""
    model = torch_model(name).train()
    spec = load(name)
    shape = input or spec.input
    saved, state, grads, optimizer = torch_memory(model, torch.randn((2,) + tuple(shape)))
    for opt, nbytes in optimizer.items():
        m = memory(spec, shape, batch=2, optimizer=opt)
        assert m.activations == saved
        assert m.params + m.buffers == state
        assert m.gradients == grads
        assert m.optimizer_state == nbytes, opt


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", ["resnet18", "mobilenet-v2", "vgg11"])
@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_half_precision_memory_equals_pytorch(name, dtype):
    """The same in half precision: BatchNorm's saved statistics follow the dtype, pooling
    indices stay int64, Adam's step stays float32."""
    model = torch_model(name).train().to(torch_dtype(dtype))
    saved, state, grads, optimizer = torch_memory(
        model, torch.randn(2, 3, 64, 64, dtype=torch_dtype(dtype))
    )
    m = memory(load(name), (3, 64, 64), batch=2, dtype=dtype, optimizer="adam")
    assert (m.activations, m.params + m.buffers, m.gradients, m.optimizer_state) == (
        saved,
        state,
        grads,
        optimizer["adam"],
    )


@pytest.mark.requires("torch")
@pytest.mark.parametrize(
    "layer_yaml,module",
    [
        (
            "{deconv: 6, kernel: 4, stride: 2, padding: 1}",
            lambda: torch.nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1),
        ),
        ("{pool: avg, kernel: 2}", lambda: torch.nn.AvgPool2d(2)),
        ("{adaptive: 3, mode: max}", lambda: torch.nn.AdaptiveMaxPool2d(3)),
        ("{adaptive: 3}", lambda: torch.nn.AdaptiveAvgPool2d(3)),
        ("{gap: }", lambda: torch.nn.AdaptiveAvgPool2d(1)),
        ("{sigmoid: }", lambda: torch.nn.Sigmoid()),
        ("{tanh: }", lambda: torch.nn.Tanh()),
        ("{softmax: }", lambda: torch.nn.Softmax(dim=1)),
        ("{relu6: }", lambda: torch.nn.ReLU6()),
        ("{lrn: 3}", lambda: torch.nn.LocalResponseNorm(3)),
        ("{dropout: 0.3}", lambda: torch.nn.Dropout(0.3)),
    ],
)
def test_each_kind_keeps_what_pytorch_saves(layer_yaml, module):
    """One layer after a trained 1×1 conv (so it takes part in the backward); the conv's
    own weight and input are left out on both sides."""
    conv = torch.nn.Conv2d(4, 4, 1)
    model = torch.nn.Sequential(conv, module()).train()
    x = torch.randn(3, 4, 9, 9)
    saved, *_ = torch_memory(model, x)
    m = memory(
        net(f"  - {{conv: 4, kernel: 1}}\n  - {layer_yaml[:-1]}, name: it}}", "[4, 9, 9]"), batch=3
    )
    assert m.activations == saved


@pytest.mark.requires("torch", "torchvision")
@pytest.mark.parametrize("name", NEW_KIND_NETWORKS)
def test_new_kinds_memory_equals_pytorch_on_torchvisions_model(name):
    """torchvision's own model (NEW_KIND_NETWORKS: SE gates, hardswish,
    SiLU, GELU, LayerNorm, layer scale, drop path, channel split and shuffle), training
    mode, batch 2 of 3×64×64, fp32: the bytes autograd saves, the state_dict, the
    gradients and each optimizer's state equal cnncalc's memory()."""
    from torchvision_model import torchvision_model

    shape = (3, 64, 64)
    torch.manual_seed(0)
    model = torchvision_model(name).train()
    saved, state, grads, optimizer = torch_memory(model, torch.randn(2, *shape))
    for opt, nbytes in optimizer.items():
        m = memory(load(name), shape, batch=2, optimizer=opt)
        assert m.activations == saved
        assert m.params + m.buffers == state
        assert m.gradients == grads
        assert m.optimizer_state == nbytes, opt


@pytest.mark.requires("torch", "torchvision")
@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0", "convnext_tiny"])
@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_new_kinds_half_precision_memory_equals_pytorch_on_torchvisions_model(name, dtype):
    """The same in half precision, batch 2 of 3×64×64, Adam: the SE gates' kept inputs,
    LayerNorm's and BatchNorm's saved statistics and drop path's noise follow the dtype,
    Adam's step stays float32."""
    from torchvision_model import torchvision_model

    shape = (3, 64, 64)
    torch.manual_seed(0)
    model = torchvision_model(name).train().to(torch_dtype(dtype))
    saved, state, grads, optimizer = torch_memory(
        model, torch.randn(2, *shape, dtype=torch_dtype(dtype))
    )
    m = memory(load(name), shape, batch=2, dtype=dtype, optimizer="adam")
    assert (m.activations, m.params + m.buffers, m.gradients, m.optimizer_state) == (
        saved,
        state,
        grads,
        optimizer["adam"],
    )
