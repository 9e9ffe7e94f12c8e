"""Speed of `cnncalc import torch:…` (issue 13 §2), as ratios against baselines in the same run.

    python benchmarks/bench_import_torch.py [--runs N] [--model resnet50]

Median of N runs each, interleaved so that noise hits all alike:
- building torchvision's model (``resnet50()``: its weights initialised), the floor every
  importer of a PyTorch class pays, cnncalc included;
- ``torch.fx.symbolic_trace`` of the built model alone;
- a forward pass of one 3×224×224 image on the CPU, what a counter that runs the model
  (fvcore, ptflops, thop, torchinfo) pays on top of the build;
- ``torch_to_yaml``: build, trace, the meta-device shape pass, mapping and the YAML.
And once, the whole process ``cnncalc import torch:torchvision.models:resnet50`` against
``python -c "import torch, torchvision"`` (the import of torch alone is most of a process).
Needs torch and torchvision.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch
import torch.fx
import torchvision

from cnncalc.model.torch_import import torch_to_yaml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="resnet50")
    options = parser.parse_args()
    runs, name = options.runs, options.model
    build = getattr(torchvision.models, name)
    built = build().eval()
    x = torch.zeros(1, 3, 224, 224)

    def forward() -> None:
        with torch.no_grad():
            built(x)

    cases = {
        f"{name}() (floor)": build,
        "torch.fx.symbolic_trace": lambda: torch.fx.symbolic_trace(built),
        "forward of 1×3×224×224": forward,
        "torch_to_yaml": lambda: torch_to_yaml(f"torch:torchvision.models:{name}", (3, 224, 224)),
    }
    times: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(runs):
        for case, fn in cases.items():
            started = time.perf_counter()
            fn()
            times[case].append(time.perf_counter() - started)
    floor = statistics.median(times[f"{name}() (floor)"])
    print(f"torchvision {torchvision.__version__} {name}, median of {runs}")
    for case, samples in times.items():
        t = statistics.median(samples)
        print(f"  {case:28s} {t * 1e3:8.1f} ms  ×{t / floor:.2f} of the build")
    for label, argv in {
        "import torch, torchvision": [sys.executable, "-c", "import torch, torchvision"],
        f"cnncalc import torch:…:{name}": [
            sys.executable,
            "-m",
            "cnncalc",
            "import",
            f"torch:torchvision.models:{name}",
            "--input",
            "3x224x224",
        ],
    }.items():
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        print(f"  process: {label:34s} {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
