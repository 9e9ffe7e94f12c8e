"""Speed of `cnncalc import` (issue 13), beside onnx-tool's profile of the same file.

    python benchmarks/bench_import.py [--runs N]

resnet50 is exported from the zoo (cnncalc export --to pytorch, then torch.onnx.export in
training mode, so its BatchNorms stay; batch 2). Then, median of N runs each, interleaved
so that the machine's load falls on all alike:

- whole processes: ``python -c pass`` (the floor of any command), ``cnncalc import
  resnet50.onnx``, and onnx-tool's profile of the same file (``onnx_tool.Model``,
  ``shape_infer``, ``profile``: what its command line does), each as a ratio to the floor;
- in one process: onnx_to_yaml (read, map, nest, write the YAML), load() of the .onnx file
  (the above, then the YAML parsed to a spec), the zoo's own YAML for scale, and
  ``onnx.load`` of the file (the protobuf parse the reader no longer does).

Then the MACs: onnx-tool's total and its part in Conv and Gemm nodes, beside cnncalc's
totals under every convention at the same batch, and which convention each equals.
Needs torch (to write the file) and onnx; onnx-tool from the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pytorch_model import torch_model  # noqa: E402

from cnncalc.analysis.pipeline import build, load  # noqa: E402
from cnncalc.analysis.stats import convention_totals  # noqa: E402
from cnncalc.model.onnx_import import onnx_to_yaml  # noqa: E402

BATCH = 2

ONNX_TOOL = """
import json, sys, time
started = time.perf_counter()
import onnx_tool
model = onnx_tool.Model(sys.argv[1])
model.graph.shape_infer()
model.graph.profile()
seconds = time.perf_counter() - started
by_op = {}
for node in model.graph.nodemap.values():
    by_op[node.op_type] = by_op.get(node.op_type, 0) + int(node.macs[0])
print(json.dumps({"seconds": seconds, "macs": int(model.graph.macs[0]), "by_op": by_op,
                  "params": int(model.graph.params)}))
"""
"""onnx-tool's profile, run in a process of its own (its import is part of its cost)."""


def _has_onnx_tool() -> bool:
    done = subprocess.run([sys.executable, "-c", "import onnx_tool"], capture_output=True)
    return done.returncode == 0


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(argv: list[str]) -> tuple[float, float, str]:
    """A process's wall time, its CPU time (user + system: what it costs on an idle
    machine, little changed by the load of a shared one) and its output."""
    started, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, _cpu() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet50.onnx"
        torch.onnx.export(
            torch_model("resnet50").train(),
            (torch.zeros(BATCH, 3, 224, 224),),
            str(path),
            dynamo=False,
            training=torch.onnx.TrainingMode.TRAINING,
        )
        processes = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cnncalc import resnet50.onnx": [sys.executable, "-m", "cnncalc", "import", str(path)],
        }
        tool = _has_onnx_tool()
        if tool:
            processes["onnx-tool profile (process)"] = [sys.executable, "-c", ONNX_TOOL, str(path)]
        whole: dict[str, list[float]] = {name: [] for name in processes}
        cpu: dict[str, list[float]] = {name: [] for name in processes}
        profiled: list[dict] = []
        for _ in range(runs):
            for name, argv in processes.items():
                seconds, used, out = _timed(argv)
                whole[name].append(seconds)
                cpu[name].append(used)
                if name.startswith("onnx-tool"):
                    profiled.append(json.loads(out.strip().splitlines()[-1]))

        cases = {
            "onnx_to_yaml": lambda: onnx_to_yaml(path),
            "load(resnet50.onnx)": lambda: load(str(path)),
            "load('resnet50') zoo YAML": lambda: load("resnet50"),
            "onnx.load (no longer done)": lambda: onnx.load(str(path)),
        }
        inside: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, fn in cases.items():
                started = time.perf_counter()
                fn()
                inside[name].append(time.perf_counter() - started)

        floor = statistics.median(whole["python -c pass"])
        print(f"resnet50.onnx: {path.stat().st_size / 1e6:.1f} MB, batch {BATCH}, median of {runs}")
        print("whole process (wall; CPU = user + system):")
        for name, samples in whole.items():
            t, used = statistics.median(samples), statistics.median(cpu[name])
            print(
                f"  {name:32s} {t:6.3f} s  ×{t / floor:5.1f} of python -c pass   CPU {used:6.3f} s"
            )
        if profiled:
            t = statistics.median(p["seconds"] for p in profiled)
            print(
                f"  {'onnx-tool profile (in process)':32s} {t:6.3f} s  (import, load, infer, profile)"
            )
        else:
            print("  onnx-tool: not installed (pip install 'cnncalc[bench]')")
        print("in one process:")
        for name, samples in inside.items():
            print(f"  {name:32s} {statistics.median(samples) * 1e3:8.1f} ms")

        if profiled:
            _compare_macs(profiled[-1], path)


def _compare_macs(profile: dict, path: Path) -> None:
    """onnx-tool's MACs beside cnncalc's conventions: its weighted layers (Conv, Gemm,
    with their biases) and its total (every node, an element-wise op weighted by its cycle
    cost: a division 4, a square root 24, an exp 32, so a BatchNorm costs 31 per element)."""
    totals = convention_totals(build(load(str(path))), batch=BATCH)
    ours = {row.convention.name: row.figures.macs for row in totals.rows}
    weighted = sum(
        profile["by_op"].get(op, 0) for op in ("Conv", "ConvTranspose", "Gemm", "MatMul")
    )
    print(f"MACs at batch {BATCH}:")
    print(f"  onnx-tool total        {profile['macs']:>16,}")
    for op, macs in sorted(profile["by_op"].items(), key=lambda kv: -kv[1]):
        print(f"    {op:20s} {macs:>16,}")
    print(f"  onnx-tool Conv + Gemm  {weighted:>16,}")
    for name, macs in ours.items():
        same = [
            label for label, v in (("total", profile["macs"]), ("Conv+Gemm", weighted)) if v == macs
        ]
        note = (
            f"  = onnx-tool's {' and '.join(same)}"
            if same
            else f"  {macs - profile['macs']:+,} vs its total"
        )
        print(f"  cnncalc {name:14s} {macs:>16,}{note}")


if __name__ == "__main__":
    main()
