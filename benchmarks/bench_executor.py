"""Speed and memory of the reference executor (issue 4), beside PyTorch in the same run.

    python benchmarks/bench_executor.py [--threads N] [--runs N]

1. The fast executor on ResNet-50, 3×224×224, batch 1, float32, against the network that
   `cnncalc export --to pytorch` writes (torch.nn modules, i.e. torch.nn.functional) on the
   same weights and input. Threads are set equal before numpy and torch are imported:
   OMP/OPENBLAS/MKL_NUM_THREADS for numpy's BLAS, torch.set_num_threads for torch
   (threadpoolctl, where installed, reports what the BLAS really uses). Runs alternate
   between the two so that noise from other processes hits both alike; medians are shown.
2. Peak memory of one fast forward pass (tracemalloc sees numpy's buffers; the process's
   maximum resident size from getrusage), beside the largest single layer's working set and
   the sum of every conv's im2col buffer, which is what the peak would approach if those
   buffers accumulated instead of being freed layer by layer.
3. The naive executor on LeNet-5, batch 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=7)
    return parser.parse_args()


ARGS = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)  # before numpy loads its BLAS

import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pytorch_model import torch_model  # noqa: E402

from cnncalc.analysis.pipeline import build, load  # noqa: E402
from cnncalc.kinds.arith import prod  # noqa: E402
from cnncalc.kinds.conv import Conv  # noqa: E402
from cnncalc.proof.executor.run import random_input, random_state, run  # noqa: E402
from cnncalc.proof.verify import peak_bytes  # noqa: E402

MB = 2**20


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"threadpoolctl not installed; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    return ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())


def im2col_total(graph, itemsize: int) -> int:
    """Every conv's im2col buffer added up (1×1 stride-1 unpadded convs need none)."""
    total = 0
    for node in graph.nodes:
        if isinstance(node.layer, Conv):
            _, k, s, _, _, pads = node.layer._geometry(node.in_shape)
            if prod(k) == 1 and set(s) == {1} and not any(p for pair in pads for p in pair):
                continue
            total += node.in_shape[0] * prod(k) * prod(node.out_shape[1:]) * itemsize
    return total


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    print(
        f"threads: {ARGS.threads} (torch {torch.get_num_threads()}, BLAS: {blas_threads()}); "
        f"numpy {np.__version__}, torch {torch.__version__}"
    )

    graph = build(load("resnet50"))
    state = {
        k: v.astype(np.float32) if v.dtype == np.float64 else v
        for k, v in random_state(graph, seed=0).items()
    }
    x = random_input(graph, 1, seed=0, dtype=np.float32)
    model = torch_model("resnet50").float()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    tx = torch.from_numpy(x)

    def numpy_run():
        return run(graph, "fast", weights=state, x=x, dtype=np.float32, keep=False).output

    def torch_run():
        with torch.no_grad():
            return model(tx)

    ours, theirs = numpy_run(), torch_run().numpy()  # warm-up, and the same answer
    error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    times: dict[str, list[float]] = {"numpy": [], "torch": []}
    for _ in range(ARGS.runs):
        for key, fn in (("numpy", numpy_run), ("torch", torch_run)):
            started = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - started)
    t_np, t_torch = (statistics.median(times[k]) for k in ("numpy", "torch"))
    print(
        f"resnet50 3x224x224 batch 1 float32: fast executor {t_np * 1e3:.0f} ms, "
        f"PyTorch {t_torch * 1e3:.0f} ms, ratio {t_np / t_torch:.2f}x "
        f"(median of {ARGS.runs}; min {min(times['numpy']) * 1e3:.0f} / "
        f"{min(times['torch']) * 1e3:.0f} ms); max |difference| / max |output| {error:.1e}"
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    numpy_run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak traced memory of one fast forward pass: {peak / MB:.1f} MiB; "
        f"largest layer's input + output + im2col: {peak_bytes(graph, 1) / 2 / MB:.1f} MiB; "
        f"all im2col buffers added up: {im2col_total(graph, 4) / MB:.1f} MiB; "
        f"process max RSS {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after"
    )

    lenet5 = build(load("lenet5"))
    naive = []
    for _ in range(3):
        result = run(lenet5, "naive", batch=1, seed=0)
        naive.append(result.seconds)
    ops = result.count
    print(
        f"naive executor on lenet5, batch 1: {statistics.median(naive) * 1e3:.0f} ms "
        f"(median of 3) for {ops.mults:,} mults and {ops.total_adds:,} adds"
    )


if __name__ == "__main__":
    main()
