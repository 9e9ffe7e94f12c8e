"""torchvision's own models, the references the zoo's torchvision networks are checked against.

Built exactly as tests/reference/torchvision/*.json were dumped (each file's ``source``):
``torchvision.models.NAME(weights=None)``, the video ones from ``torchvision.models.video``,
and GoogLeNet and Inception v3 without their auxiliary classifiers (the zoo describes the
inference graph). torch and torchvision are imported by the functions that need them,
so a torch-free test module can import the lists here.
"""

from __future__ import annotations

import functools

BUILD_OPTIONS = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}
"""The builders' options beyond ``weights=None``, as in the reference dumps' ``source``."""


def torchvision_model(torchvision_name: str, device: str | None = None):
    """``torchvision.models.NAME(weights=None)`` (``video.NAME`` from models.video) in the
    default dtype, on ``device`` (the default device if None). On the meta device (shapes
    only): RegNet computes its stage widths with tensors while it builds and reads them
    back, which a meta tensor cannot do, so a model that refuses is built on the CPU and
    moved."""
    import torch
    import torchvision

    name = torchvision_name.removeprefix("video.")
    family = (
        torchvision.models.video if torchvision_name.startswith("video.") else torchvision.models
    )
    build = functools.partial(getattr(family, name), weights=None, **BUILD_OPTIONS.get(name, {}))
    if device is None:
        return build()
    try:
        with torch.device(device):
            return build()
    except NotImplementedError:
        return build().to(device)


def randomize_constant_tensors(model, seed: int = 8) -> None:
    """Draw at random every floating tensor torch initialises to one constant: norm
    weights and biases, running statistics, zero biases, ConvNeXt's layer scale (1e-6).
    Left at 1, 0, 0, 1 they would hide a misplaced or missing layer; a tensor that
    starts nonzero (a scale, a variance) becomes U(0.5, 1.5), one that starts at zero (a
    shift, a mean) U(-0.5, 0.5). Weights drawn by their own init are kept (they are
    already random and keep the activations' scale through a deep network)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if not tensor.is_floating_point() or tensor.numel() == 0:
                continue
            if bool((tensor == tensor.flatten()[0]).all()):
                shift = 0.5 if float(tensor.flatten()[0]) != 0 else -0.5
                noise = torch.rand(tensor.shape, generator=gen, dtype=tensor.dtype)
                tensor.copy_(noise + shift)


NEW_KIND_NETWORKS = [
    "mobilenet_v3_small",
    "efficientnet_b0",
    "convnext_tiny",
    "shufflenet_v2_x1_0",
    "regnet_y_400mf",
]
"""Whole networks built of the kinds issue 9 added: hardswish, hardsigmoid and the
squeeze-and-excitation ``mul`` gate (MobileNetV3-Small); SiLU, SE and stochastic depth
(EfficientNet-B0); LayerNorm over channels, GELU, a Linear at every position, layer scale
and drop path (ConvNeXt-Tiny); channel split and shuffle (ShuffleNetV2 x1.0); grouped
convs with an SE gate after ReLU (RegNetY-400MF)."""
