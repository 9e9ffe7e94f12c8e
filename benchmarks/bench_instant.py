"""Issue 11, "instant at any size": every figure as a difference or ratio against a baseline
run in the same session, interleaved so machine noise hits all alike.

    python benchmarks/bench_instant.py [--runs N] [--skip-zoo-verify] [--only SECTION ...]

Sections (each prints its goal beside the figure):

1. start-up: whole-process wall and CPU time of cnncalc commands against ``python -c pass``,
   the libraries they load imported alone (the floor under the goals), and torchinfo's and
   fvcore's whole-process times on the same resnet50 (written by ``cnncalc export``, so no
   torchvision is needed);
2. analysis: ``analyze`` of resnet50 and densenet201 in-process (warm), and a 253-size sweep
   of resnet50 with memory, in-process and as a whole command;
3. scale: generated residual networks of 1k, 10k and 100k layers: ``flops --format json``,
   ``--format csv`` and the ``summary`` table, wall time, CPU time and peak RSS;
4. plot: ``flops densenet201 --plot``, time and image size;
5. verify: the estimate beside the real forward pass on every zoo network and on a
   ShuffleNet-like network written with connection tables; the real time is one run from
   2 s, else the median of 3 runs (5 under 0.1 s, 9 under 10 ms), each beside its own
   estimate, with the spread of the runs; run it with ``--blas-threads 1`` on a shared
   machine.

Wall time on a shared machine swings with the other work on it; CPU time (user + system of
the child) is what the command itself spent: on an idle machine the two agree for these
single-threaded commands, so each verdict reads the CPU time (wall is printed beside it).
In-process figures are CPU time too.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
CNNCALC = [sys.executable, "-c", "from cnncalc.cli import main; main()"]
"""The console script's entry point, ``cnncalc.cli:main``, without pyenv's shim in front."""


def cnncalc(*args: str) -> list[str]:
    return [*CNNCALC, *args]


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process; its output is thrown away. ``env`` adds
    to the environment (TTY_COMPATIBLE=1: the output is taken for a terminal's)."""
    cpu, started = child_cpu(), time.perf_counter()
    subprocess.run(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**ENV, **(env or {})},
        check=True,
    )
    return time.perf_counter() - started, child_cpu() - cpu


PEAK = (
    "import resource, subprocess, sys;"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed_peak(argv: list[str]) -> tuple[float, float, float]:
    """(wall, CPU, peak RSS in MB) of one process, run under a parent that reads its RSS."""
    cpu, started = child_cpu(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PEAK, *argv], capture_output=True, text=True, env=ENV, check=True
    )
    return time.perf_counter() - started, child_cpu() - cpu, int(out.stdout) / 1024


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) of each command over ``runs`` rounds, one of each per round."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(timed(argv, AS_TERMINAL if name.endswith(TERMINAL) else None))
    return {
        name: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
        for name, s in samples.items()
    }


TERMINAL = "(to a terminal)"
"""A command so named runs with its output taken for a terminal's, as a person sees it."""
AS_TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "100"}


def verdict(ok: bool) -> str:
    return "meets the goal" if ok else "MISSES the goal"


# --------------------------------------------------------------------------- 1. start-up

PEER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("model", sys.argv[2])
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
model = module.build().eval()
import torch
x = torch.zeros((1,) + module.INPUT_SHAPE)
if sys.argv[1] == "torchinfo":
    from torchinfo import summary
    summary(model, input_data=x, verbose=0)
else:
    from fvcore.nn import FlopCountAnalysis
    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False); analysis.uncalled_modules_warnings(False)
    analysis.total()
"""


LIBRARIES = {
    "libraries alone: typer": "import typer.main",
    "libraries alone: typer, pydantic, PyYAML": (
        "import typer.main, yaml; from pydantic import BaseModel, Field, TypeAdapter; Field(ge=1)"
    ),
    "libraries alone: typer, pydantic, PyYAML, rich": (
        "import typer.main, yaml, rich.console, rich.table; "
        "from pydantic import BaseModel, Field, TypeAdapter; Field(ge=1)"
    ),
}
"""The floor under each start-up goal: --help loads typer; a JSON analysis typer, pydantic
(with the constraints a kind's fields use) and PyYAML; a table rich besides."""


def startup(runs: int, work: Path) -> None:
    print("\n## 1. start-up (whole process, median of", runs, "interleaved runs)")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cnncalc --version": cnncalc("--version"),
        "cnncalc --help": cnncalc("--help"),
        f"cnncalc --help {TERMINAL}": cnncalc("--help"),
        "cnncalc shape lenet5": cnncalc("shape", "lenet5"),
        "cnncalc summary resnet50 --format json": cnncalc(
            "summary", "resnet50", "--format", "json"
        ),
    }
    # what the libraries a command loads take by themselves, in the same run: the floor
    # under cnncalc's own start-up (typer >= 0.29 checks every option value with pydantic)
    for name, code in LIBRARIES.items():
        commands[name] = [sys.executable, "-c", code]
    model = work / "resnet50_model.py"
    subprocess.run(cnncalc("export", "resnet50", "-o", str(model)), env=ENV, check=True)
    peers = {}
    for tool in ("torchinfo", "fvcore"):
        probe = subprocess.run(
            [sys.executable, "-c", f"import torch, {tool}"], capture_output=True, env=ENV
        )
        if probe.returncode == 0:
            peers[f"{tool} summary of the same resnet50"] = [
                sys.executable,
                "-c",
                PEER,
                tool,
                str(model),
            ]
        else:
            print(f"({tool} or torch is not installed: left out)")
    commands.update(peers)
    result = interleaved(commands, runs)
    base_wall, base_cpu = result["python -c pass"]
    goals = {
        "cnncalc --version": 0.06,
        "cnncalc --help": 0.06,
        "cnncalc shape lenet5": 0.10,
        "cnncalc summary resnet50 --format json": 0.10,
    }
    ours = result["cnncalc summary resnet50 --format json"][0]
    for name, (wall, cpu) in result.items():
        line = (
            f"{name:46s} wall {wall * 1e3:7.0f} ms (+{(wall - base_wall) * 1e3:6.0f})"
            f"   CPU {cpu * 1e3:7.0f} ms (+{(cpu - base_cpu) * 1e3:6.0f})"
        )
        if name in goals:
            goal = goals[name]
            line += f"   goal +{goal * 1e3:.0f} ms: {verdict(cpu - base_cpu <= goal)}"
        elif name in peers:
            line += f"   {wall / ours:5.1f}x cnncalc's summary resnet50 --format json"
        print(line)
    if shutil.which("valgrind"):
        counted = {n: argv for n, argv in commands.items() if n not in peers}
        print("\ninstructions executed (valgrind's cachegrind; the load does not change them):")
        counts = {
            name: instructions(argv, AS_TERMINAL if name.endswith(TERMINAL) else None)
            for name, argv in counted.items()
        }
        base = counts["python -c pass"]
        for name, count in counts.items():
            print(f"{name:46s} {count / 1e6:8.1f} M (+{(count - base) / 1e6:6.1f} M)")
    else:
        print("(valgrind is not installed: no instruction counts)")


def instructions(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Instructions one whole process executes, counted by valgrind's cachegrind: the same
    on a loaded machine as on an idle one, so a change of a few ms shows through noise."""
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
        + argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, **(env or {})},
        check=True,
    )
    refs = next(line for line in run.stderr.splitlines() if "I   refs:" in line)
    return int(refs.split(":")[1].replace(",", ""))


# --------------------------------------------------------------------------- 2. analysis


def best_of(fn, repeats: int, rounds: int = 5) -> float:
    """Fastest mean of ``rounds`` rounds of ``repeats`` calls, CPU seconds a call."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeats):
            fn()
        best = min(best, (time.process_time() - started) / repeats)
    return best


def analysis(runs: int) -> None:
    from cnncalc.analysis.pipeline import analyze, load
    from cnncalc.analysis.sweep import sweep, sweep_shapes

    print("\n## 2. analysis (in-process, warm: the spec loaded once, graph + stats each call)")
    base = best_of(lambda: sum(range(10_000)), 200)
    print(f"baseline: sum(range(10,000)) {base * 1e6:.0f} µs")
    for net, goal in (("resnet50", 1e-3), ("densenet201", 4e-3)):
        spec = load(net)
        analyze(spec)
        t = best_of(lambda: analyze(spec), 20)
        layers = len(analyze(spec).layers)
        print(
            f"analyze({net}): {t * 1e3:.2f} ms CPU, {t / layers * 1e6:.1f} µs a layer "
            f"({layers} layers; {t / base:.0f}x the baseline)   goal {goal * 1e3:.0f} ms: "
            f"{verdict(t <= goal)}"
        )
    spec = load("resnet50")
    shapes = sweep_shapes(["3x{32..2048..8}"], spec.input)
    t = best_of(lambda: sweep(spec, shapes), 1, rounds=3)
    print(
        f"sweep(resnet50, {len(shapes)} sizes, memory included): {t:.2f} s CPU in-process, "
        f"{len(shapes) / t:.0f} sizes a second   goal 0.5 s: {verdict(t <= 0.5)}"
    )
    whole = interleaved(
        {
            "python -c pass": [sys.executable, "-c", "pass"],
            "sweep": cnncalc("sweep", "resnet50", "--input", "3x{32..2048..8}"),
        },
        max(3, runs // 2),
    )
    wall, cpu = whole["sweep"]
    print(
        f"cnncalc sweep resnet50 --input '3x{{32..2048..8}}': wall {wall:.2f} s "
        f"(+{wall - whole['python -c pass'][0]:.2f} s over python -c pass), CPU {cpu:.2f} s"
    )


# --------------------------------------------------------------------------- 3. scale

DEEP = """name: deep{layers}
input: [16, 32, 32]
layers:
  - {{conv: 16, kernel: 3, padding: 1}}
  - repeat: 10
    layers:
      - repeat: {blocks}
        layers:
          - add:
              - - {{conv: 16, kernel: 3, padding: 1, bias: false}}
                - {{batchnorm: }}
                - {{relu: }}
                - {{conv: 16, kernel: 3, padding: 1, bias: false}}
                - {{batchnorm: }}
              - []
          - {{relu: }}
  - {{gap: }}
"""
"""A residual network of 7 layers a block (conv, bn, relu, conv, bn, add, relu), 10 stages."""


def deep_network(work: Path, layers: int) -> Path:
    path = work / f"deep{layers}.yaml"
    path.write_text(DEEP.format(layers=layers, blocks=(layers - 2) // 70), encoding="utf-8")
    return path


def scale(work: Path) -> None:
    print("\n## 3. scale (generated residual networks; one run each)")
    base_wall, base_cpu, base_rss = timed_peak([sys.executable, "-c", "pass"])
    print(f"python -c pass: {base_wall:.2f} s, peak {base_rss:.0f} MB")
    goals = {"flops --format json": 2.0, "flops --format csv": 2.0, "summary (table)": 5.0}
    for layers in (1_000, 10_000, 100_000):
        net = str(deep_network(work, layers))
        for name, args in (
            ("flops --format json", ("flops", net, "--format", "json")),
            ("flops --format csv", ("flops", net, "--format", "csv")),
            ("summary (table)", ("summary", net)),
        ):
            wall, cpu, rss = timed_peak(cnncalc(*args))
            line = (
                f"{layers:>7,} layers  {name:20s} wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
                f"peak {rss:5.0f} MB  ({cpu / layers * 1e6:5.1f} µs of CPU a layer)"
            )
            if layers == 100_000:
                line += (
                    f"   goal {goals[name]:.0f} s, 150 MB: "
                    f"{verdict(cpu <= goals[name] and rss <= 150)}"
                )
            print(line)


# --------------------------------------------------------------------------- 4. plot


def plot(work: Path) -> None:
    print("\n## 4. plot")
    out = work / "densenet201.png"
    wall, cpu = timed(cnncalc("flops", "densenet201", "--plot", str(out)))
    size = ""
    try:
        from PIL import Image

        size = "{}x{} px".format(*Image.open(out).size)
    except ImportError:
        pass
    print(
        f"cnncalc flops densenet201 --plot: wall {wall:.2f} s, CPU {cpu:.2f} s, {size}   "
        f"goal 2 s: {verdict(cpu <= 2.0)}"
    )


# --------------------------------------------------------------------------- 5. verify


def tabled_network(work: Path) -> Path:
    """ShuffleNet-like: 1x1 convs whose connection table joins 4 groups of 60 maps, then
    depthwise 3x3 convs, four times over."""
    rows = [[(o // 60) * 60 + j for j in range(60)] for o in range(240)]
    path = work / "shuffle-tables.yaml"
    path.write_text(
        "name: shuffle-tables\ninput: [240, 28, 28]\nlayers:\n  - repeat: 4\n    layers:\n"
        f"      - {{conv: 240, kernel: 1, table: {json.dumps(rows)}}}\n"
        "      - {relu: }\n"
        "      - {conv: 240, kernel: 3, padding: 1, groups: 240}\n",
        encoding="utf-8",
    )
    return path


LONG_RUN = 2.0
"""Seconds from which one run is the real time: a verify whose run takes less is repeated
(three runs, five under :data:`SHORT_RUN`), each repetition measuring its costs again and
then running, so that every estimate is made right before its own run; the real time is
the median run and the estimate the median estimate. A single run that loses a time slice
to another process can take twice as long (MobileNetV2 once took 0.77 s where reruns took
0.42–0.45 s), which says nothing of the estimate; a run of seconds averages that out."""

SHORT_RUN = 0.1
"""Seconds under which a verify is repeated five times, nine under a tenth of that: a
run of a few milliseconds either runs through or waits out another process's time slice
(1 ms runs took 9–10 ms once in a while at load 8, and at load 6 three of five runs of
d2l's LeNet with batch norm took 3–6 ms for 1 ms), which says nothing of the estimate."""


def repetitions(first: float) -> int:
    """Runs of a verify whose first run took ``first`` seconds (:data:`LONG_RUN`,
    :data:`SHORT_RUN`)."""
    if first >= LONG_RUN:
        return 1
    return 3 if first >= SHORT_RUN else 5 if first >= SHORT_RUN / 10 else 9


def verify(work: Path, zoo: bool) -> None:
    from cnncalc.analysis.catalog import catalog
    from cnncalc.analysis.pipeline import load, variants
    from cnncalc.errors import CnnCalcError
    from cnncalc.proof.verify import verify_network

    print(
        "\n## 5. verify: estimate beside the real forward pass (fast executor, batch 1; BLAS "
        f"threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'numpy default')}; load average "
        f"{os.getloadavg()[0]:.1f})\n"
        f"Each estimate is made right before its own run. Real time: one run from "
        f"{LONG_RUN:g} s, else the median of 3 runs (5 under {SHORT_RUN:g} s, 9 under "
        f"{SHORT_RUN / 10:g} s), beside the "
        "median estimate; the spread is the slowest run over the fastest."
    )
    nets = [str(tabled_network(work))]
    if zoo:
        nets += [entry.name for entry in catalog()]
    rows = []
    for net in nets:
        for spec in variants(load(net)):
            try:
                runs = [verify_network(spec, max_seconds=3600)]
                wanted = repetitions(runs[0].seconds)
                while len(runs) < wanted:
                    runs.append(verify_network(spec, max_seconds=3600))
            except (CnnCalcError, MemoryError) as exc:  # e.g. a 26.8 GiB fc weight
                print(f"{spec.name:32s} not run: {str(exc).splitlines()[0][:100]}")
                continue
            took = statistics.median(r.seconds for r in runs)
            guess = statistics.median(r.estimated_seconds for r in runs)
            ratio = max(took, 1e-9) / max(guess, 1e-9)
            far = max(ratio, 1 / ratio)
            fastest, slowest = min(r.seconds for r in runs), max(r.seconds for r in runs)
            rows.append((far, spec.name))
            print(
                f"{spec.name:32s} estimated {guess:8.3f} s, took {took:8.3f} s  "
                f"({far:4.2f}x {'under' if ratio > 1 else 'over'})"
                + (
                    f"  median of {len(runs)}, runs {fastest:.3f}–{slowest:.3f} s "
                    f"(spread {slowest / max(fastest, 1e-9):.2f}x)"
                    if len(runs) > 1
                    else "  one run"
                ),
                flush=True,
            )
    offs = sorted(far for far, _ in rows)
    worst, worst_name = max(rows)
    bands = (1.25, 1.5, 2.0)
    counts = [sum(low < f <= high for f in offs) for low, high in zip((0, *bands), bands)]
    print(
        f"{sum(f <= 2 for f in offs)} of {len(offs)} within 2x, median "
        f"{statistics.median(offs):.2f}x off, 90th percentile {offs[int(len(offs) * 0.9)]:.2f}x; "
        f"within 1.25x {counts[0]}, 1.25–1.5x {counts[1]}, 1.5–2x {counts[2]}, "
        f"past 2x {sum(f > 2 for f in offs)}; load average now {os.getloadavg()[0]:.1f}"
    )
    print(
        f"furthest estimate: {worst:.2f}x off ({worst_name})   goal within 2x: "
        f"{verdict(worst <= 2)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-zoo-verify", action="store_true")
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="threads numpy's BLAS may use in the verify section (set before numpy loads): "
        "on a machine shared past its cores, two BLAS threads can take 1,000x longer on a "
        "small matrix product than one, which no estimate made beforehand can foresee",
    )
    parser.add_argument(
        "--only", nargs="*", choices=("startup", "analysis", "scale", "plot", "verify")
    )
    options = parser.parse_args()
    chosen = set(options.only or ("startup", "analysis", "scale", "plot", "verify"))
    if options.blas_threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(options.blas_threads)
    # Bytecode first, as pip writes it on install: with PYTHONDONTWRITEBYTECODE set (as on
    # this machine) a module edited since its .pyc was written is compiled again in every
    # process, some 60 ms of start-up that an installed cnncalc never pays.
    compileall.compile_dir(ROOT / "cnncalc", quiet=1)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "startup" in chosen:
            startup(options.runs, work)
        if "analysis" in chosen:
            analysis(options.runs)
        if "scale" in chosen:
            scale(work)
        if "plot" in chosen:
            plot(work)
        if "verify" in chosen:
            verify(work, not options.skip_zoo_verify)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
