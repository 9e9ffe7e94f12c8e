"""The mutations issue 8's reviewer saw survive, applied one at a time against the fast tier.

    python scripts/hand_mutations.py        # from the repository root, on a clean checkout

Each mutation replaces one exact line fragment of the core, runs ``pytest tests/fast``
and restores the file (also on Ctrl-C); it prints KILLED with the failing tests, or
SURVIVED. Every line must say KILLED.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MUTATIONS = [
    (
        "transposed conv's jump multiplied by its stride",
        "cnncalc/kinds/conv.py",
        "[Fraction(1, ss) for ss in s]",
        "[ss for ss in s]",
    ),
    (
        "adaptive pool's receptive field from its smallest window",
        "cnncalc/kinds/pool.py",
        "k = [max(e - s for s, e",
        "k = [min(e - s for s, e",
    ),
    (
        "deconv output_padding ignored",
        "cnncalc/kinds/conv.py",
        "out = (n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1",
        "out = (n - 1) * ss - 2 * pp + dd * (kk - 1) + 1",
    ),
    (
        "avg pool count_include_pad ignored (counts)",
        "cnncalc/kinds/pool.py",
        'clip = self.mode == "avg" and not self.count_include_pad',
        "clip = False",
    ),
    (
        "avg pool count_include_pad ignored (fast executor)",
        "cnncalc/proof/executor/ops_fast.py",
        'if mode == "avg" and not count_include_pad\n',
        "if False\n",
    ),
    (
        "avg pool count_include_pad ignored (naive executor)",
        "cnncalc/proof/executor/ops_naive.py",
        'clip_to_input=(mode == "avg" and not count_include_pad)',
        "clip_to_input=False",
    ),
    (
        "three-way add counted as one add per element (counts)",
        "cnncalc/kinds/joins.py",
        "eltwise_adds=(len(shapes) - 1) * prod",
        "eltwise_adds=1 * prod",
    ),
    (
        "three-way add counted as one add per element (fast executor)",
        "cnncalc/proof/executor/ops_fast.py",
        "eltwise_adds=(len(xs) - 1) * y.size",
        "eltwise_adds=y.size",
    ),
    (
        "sigmoid counting two adds",
        "cnncalc/kinds/pointwise.py",
        'per_element: ClassVar[dict[str, int]] = {"adds": 1, "divs": 1, "exps": 1}',
        'per_element: ClassVar[dict[str, int]] = {"adds": 2, "divs": 1, "exps": 1}',
    ),
    (
        "'same' padding with the larger half first",
        "cnncalc/kinds/arith.py",
        "pads.append((total // 2, total - total // 2))",
        "pads.append((total - total // 2, total // 2))",
    ),
    (
        "receptive field through add/concat: min instead of max",
        "cnncalc/kinds/arith.py",
        "tuple(max(rs) for rs in",
        "tuple(min(rs) for rs in",
    ),
    (
        "jump through add/concat: min instead of max",
        "cnncalc/kinds/arith.py",
        "tuple(max(js) for js in",
        "tuple(min(js) for js in",
    ),
]


def fast_tier() -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-rf", "-p", "no:cacheprovider", "tests/fast"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def main() -> int:
    survived = 0
    for name, path, old, new in MUTATIONS:
        file = ROOT / path
        source = file.read_text(encoding="utf-8")
        if source.count(old) != 1:
            print(f"STALE    {name}: the fragment is not in {path} exactly once")
            survived += 1
            continue
        file.write_text(source.replace(old, new), encoding="utf-8")
        try:
            result = fast_tier()
        finally:
            file.write_text(source, encoding="utf-8")
        failed = [
            line.split(" - ")[0].removeprefix("FAILED ")
            for line in result.stdout.splitlines()
            if line.startswith("FAILED")
        ]
        if result.returncode:
            print(f"KILLED   {name}: {', '.join(failed)}")
        else:
            survived += 1
            print(f"SURVIVED {name}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
