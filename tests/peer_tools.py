"""Run the peer FLOP counters on a PyTorch module and read each one's own number.

Shared by the tests that check cnncalc's peer presets (tests/test_peer_tools.py). Every
runner takes a function that builds a fresh module, the input shape without the batch,
and the device to run on, and returns ``{figure: int}`` with the figure named as the
cnncalc preset that reproduces it (``{"macs": ...}`` or ``{"flops": ...}``; torchscan and
calflops report both).

Devices: fvcore traces with the JIT, and ptflops (PyTorch backend) and calflops patch
Python functions that PyTorch's meta kernels may call themselves, so those three run a
real CPU forward pass. The other tools count from shapes (module hooks or a dispatch
mode) and run on the "meta" device, which skips the arithmetic; the tests check on small
networks that meta and CPU give them the same numbers.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import types
import warnings
from typing import Callable

import pytest
from needs import optional_module

torch = optional_module("torch")

Build = Callable[[], "torch.nn.Module"]


def _batch(shape, device) -> torch.Tensor:
    return torch.zeros((1,) + tuple(shape), device=device)


@contextlib.contextmanager
def _quiet():
    """The tools print progress and warn about every module they do not know."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def run_torch(build: Build, shape, device: str) -> dict[str, int]:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        build()(_batch(shape, device))
    return {"flops": counter.get_total_flops()}


def run_fvcore(build: Build, shape, device: str) -> dict[str, int]:
    from fvcore.nn import FlopCountAnalysis

    with _quiet():
        analysis = FlopCountAnalysis(build(), (_batch(shape, device),))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        return {"macs": int(analysis.total())}


def _ptflops(backend: str) -> Callable[[Build, tuple, str], dict[str, int]]:
    def run(build: Build, shape, device: str) -> dict[str, int]:
        from ptflops import get_model_complexity_info

        with _quiet():
            macs, _ = get_model_complexity_info(
                build(), tuple(shape), as_strings=False, print_per_layer_stat=False, backend=backend
            )
        assert macs is not None, f"ptflops ({backend}) failed"
        return {"macs": int(macs)}

    return run


def run_thop(build: Build, shape, device: str) -> dict[str, int]:
    from thop import profile

    with _quiet():
        ops, _ = profile(build(), inputs=(_batch(shape, device),), verbose=False)
    return {"macs": int(ops)}


def run_torchinfo(build: Build, shape, device: str) -> dict[str, int]:
    from torchinfo import summary

    stats = summary(build(), input_size=(1,) + tuple(shape), device=device, verbose=0)
    return {"macs": stats.total_mult_adds}


def run_torchscan(build: Build, shape, device: str) -> dict[str, int]:
    """torchscan 0.2's totals are 'known' values: modules it has no formula for add 0
    (and a diagnostic); its summary prints the known total."""
    from torchscan import crawl_module

    with _quiet():
        totals = crawl_module(build(), tuple(shape))["totals"]
    return {"flops": totals["module_flops"]["known_value"], "macs": totals["macs"]["known_value"]}


def calflops_engine() -> types.ModuleType:
    """calflops.flops_counter, loaded without calflops/__init__.py: that file imports
    transformers (for calflops' Hugging Face entry point), which calflops does not declare;
    the counting engine needs only torch."""
    if "calflops.flops_counter" not in sys.modules:
        spec = importlib.util.find_spec("calflops")
        package = types.ModuleType("calflops")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules.setdefault("calflops", package)
    import calflops.flops_counter

    return calflops.flops_counter


def run_calflops(build: Build, shape, device: str) -> dict[str, int]:
    model = build()
    if next(model.parameters(), None) is None:
        # calflops reads the device from the first parameter; an unused one costs nothing
        model.register_parameter("unused", torch.nn.Parameter(torch.zeros(1, device=device)))
    with _quiet():
        flops, macs, _ = calflops_engine().calculate_flops(
            model,
            input_shape=(1,) + tuple(shape),
            print_results=False,
            print_detailed=False,
            output_as_string=False,
        )
    return {"flops": int(flops), "macs": int(macs)}


TOOLS: dict[str, tuple[Callable[[Build, tuple, str], dict[str, int]], str]] = {
    "torch": (run_torch, "meta"),
    "fvcore": (run_fvcore, "cpu"),
    "ptflops": (_ptflops("pytorch"), "cpu"),
    "ptflops-aten": (_ptflops("aten"), "meta"),
    "thop": (run_thop, "meta"),
    "torchinfo": (run_torchinfo, "meta"),
    "torchscan": (run_torchscan, "meta"),
    "calflops": (run_calflops, "cpu"),
}
"""preset name → (runner, device it runs on)."""


def tool_module(preset: str) -> str:
    """The module a preset's tool is installed as: ``ptflops-aten`` is ptflops."""
    return preset.removesuffix("-macs").removesuffix("-aten")


def needs_tool(*presets: str) -> pytest.MarkDecorator:
    """The marker of a test that runs the tools of ``presets`` (on an exported PyTorch
    module): it skips alone when torch or one of them is not installed."""
    return pytest.mark.requires(*dict.fromkeys(["torch"] + [tool_module(p) for p in presets]))


def tool_params(pairs) -> list:
    """(preset, figure) pairs as parameters, each marked with the tool it needs."""
    return [pytest.param(p, f, marks=needs_tool(p), id=f"{p}-{f}") for p, f in pairs]


def builder(module: types.ModuleType, device: str) -> Build:
    """A function that builds the exported network of ``module`` on ``device``, in eval mode."""

    def build() -> torch.nn.Module:
        with torch.device(device):
            return module.build().eval()

    return build


def run_tool(tool: str, module: types.ModuleType, device: str | None = None) -> dict[str, int]:
    """One tool's numbers for an exported network (``module`` as cnncalc's export wrote it)."""
    runner, default = TOOLS[tool]
    device = device or default
    return runner(builder(module, device), module.INPUT_SHAPE, device)


def torchvision_builder(model: str, device: str) -> Build:
    """A function that builds torchvision's own ``model`` (``video.r3d_18``; as
    tests/torchvision_model.py builds the references) on ``device``, in eval mode. It is
    made on the meta device, then given uninitialised memory for a CPU run: the counts do
    not depend on the weights, and initialising 50 M of them is most of a small run."""

    def build() -> torch.nn.Module:
        from torchvision_model import torchvision_model

        net = torchvision_model(model, "meta").eval()
        return net if device == "meta" else net.to_empty(device=device)

    return build


def run_tool_on_torchvision(
    tool: str, model: str, shape, device: str | None = None
) -> dict[str, int]:
    """One tool's numbers for torchvision's own model at input ``shape`` (no batch)."""
    runner, default = TOOLS[tool]
    device = device or default
    return runner(torchvision_builder(model, device), tuple(shape), device)
