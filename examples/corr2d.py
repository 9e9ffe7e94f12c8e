"""d2l 7.2: the two-dimensional cross-correlation ``corr2d``, run by cnncalc's executor.

    X = [[0, 1, 2], [3, 4, 5], [6, 7, 8]],  K = [[0, 1], [2, 3]]  ->  [[19, 25], [37, 43]]

e.g. 19 = 0*0 + 1*1 + 3*2 + 4*3.  Run: ``python examples/corr2d.py``.
"""

import sys
from pathlib import Path

import numpy as np

try:
    from cnncalc.proof.executor import get_ops
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnncalc.proof.executor import get_ops


def main() -> np.ndarray:
    X = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    results = {}
    for impl in ("naive", "fast"):
        # the executor works on [N, C, H, W] batches: one sample, one channel
        y, count = get_ops(impl).conv(X.reshape(1, 1, 3, 3), K.reshape(1, 1, 2, 2))
        results[impl] = (y[0, 0], count)
    Y, count = results["naive"]
    assert np.array_equal(Y, results["fast"][0]) and count == results["fast"][1]
    print("X =\n", X, sep="")
    print("K =\n", K, sep="")
    print("corr2d(X, K) =\n", Y, sep="")
    print(f"19 = 0*0 + 1*1 + 3*2 + 4*3 = {0 * 0 + 1 * 1 + 3 * 2 + 4 * 3}")
    print(
        f"operations: {count.mults} multiplications, {count.adds} additions "
        f"(4 outputs x 4 products, 4 outputs x 3 additions; naive and fast agree)"
    )
    return Y


if __name__ == "__main__":
    main()
