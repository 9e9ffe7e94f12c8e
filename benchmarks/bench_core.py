"""Speed of the calculator core (issue 2), as ratios against a baseline run in the same session.

    python benchmarks/bench_core.py [--runs N]

1. In-process: analysing resnet152 after it is loaded (graph + stats), against loading it
   (YAML → spec), median of N runs.
2. Whole process: `cnncalc summary resnet50 --format json` against `python -c "import cnncalc"`
   and `python -c pass`, median of N runs each, interleaved so machine noise hits all alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from cnncalc.analysis.pipeline import analyze, load


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    spec = load("resnet152")
    t_load = median_seconds(lambda: load("resnet152"), runs)
    t_analyse = median_seconds(lambda: analyze(spec), runs)
    layers = len(analyze(spec).layers)
    print(
        f"resnet152 ({layers} layers): load {t_load * 1e3:.1f} ms, "
        f"analyse {t_analyse * 1e3:.1f} ms (median of {runs})"
    )

    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import cnncalc'": [sys.executable, "-c", "import cnncalc"],
        "python -c 'import cnncalc.cli'": [sys.executable, "-c", "import cnncalc.cli"],
        "cnncalc summary resnet50 --format json": [
            sys.executable,
            "-m",
            "cnncalc",
            "summary",
            "resnet50",
            "--format",
            "json",
        ],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            samples[name].append(time.perf_counter() - started)
    base = statistics.median(samples["python -c pass"])
    for name, values in samples.items():
        m = statistics.median(values)
        print(f"{name:42s} {m * 1e3:7.1f} ms  ({m / base:4.1f}× python -c pass)")
    whole = statistics.median(samples["cnncalc summary resnet50 --format json"])
    print(
        f"analysis of resnet152 is {t_analyse / base:.2f}× interpreter start-up; "
        f"of the whole resnet50 command {t_analyse / whole:.0%}"
    )


if __name__ == "__main__":
    main()
