"""Speed of `cnncalc import` (issue 13), as ratios against baselines run in the same session.

    python benchmarks/bench_import.py [--runs N]

resnet50 is exported from the zoo (cnncalc export --to pytorch, then torch.onnx.export in
training mode, so its BatchNorms stay), then, median of N runs each, interleaved:
- onnx.load of the file alone (the protobuf read every import must do: the floor);
- onnx_to_yaml (read, map, nest, write the YAML);
- cnncalc.analysis.pipeline.load of the .onnx file (the above, then the YAML parsed to a spec);
- load("resnet50"), the zoo's hand-written YAML, for scale.
And once, the whole process `cnncalc import resnet50.onnx` against `python -c pass`.
Needs torch (to write the file) and onnx.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pytorch_model import torch_model  # noqa: E402

from cnncalc.analysis.pipeline import load  # noqa: E402
from cnncalc.model.onnx_import import onnx_to_yaml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet50.onnx"
        torch.onnx.export(
            torch_model("resnet50").train(),
            (torch.zeros(2, 3, 224, 224),),
            str(path),
            dynamo=False,
            training=torch.onnx.TrainingMode.TRAINING,
        )
        cases = {
            "onnx.load (floor)": lambda: onnx.load(str(path)),
            "onnx_to_yaml": lambda: onnx_to_yaml(path),
            "load(resnet50.onnx)": lambda: load(str(path)),
            "load('resnet50') zoo YAML": lambda: load("resnet50"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, fn in cases.items():
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        floor = statistics.median(times["onnx.load (floor)"])
        print(f"resnet50.onnx: {path.stat().st_size / 1e6:.1f} MB, median of {runs}")
        for name, samples in times.items():
            t = statistics.median(samples)
            print(f"  {name:28s} {t * 1e3:8.1f} ms  ×{t / floor:.2f} of onnx.load")
        whole = {}
        for label, argv in {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cnncalc import resnet50.onnx": [sys.executable, "-m", "cnncalc", "import", str(path)],
        }.items():
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            whole[label] = time.perf_counter() - started
        for label, t in whole.items():
            print(f"  process: {label:28s} {t:.2f} s")


if __name__ == "__main__":
    main()
