"""d2l 7.2.4: object edge detection with a 1 x 2 kernel.

X is 6 x 8 ones with columns 2..5 set to 0 (a black stripe on white).
K = [[1, -1]] gives 1 at the white-to-black edge (column 1), -1 at the
black-to-white edge (column 5) and 0 elsewhere.  On X transposed the
edges are horizontal, and the same horizontal kernel finds none.
Run: ``python examples/edge_detection.py``.
"""

import sys
from pathlib import Path

import numpy as np

try:
    from cnncalc.proof.executor import get_ops
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnncalc.proof.executor import get_ops


def corr2d(X: np.ndarray, K: np.ndarray, impl: str = "naive") -> np.ndarray:
    y, _ = get_ops(impl).conv(X.reshape((1, 1) + X.shape), K.reshape((1, 1) + K.shape))
    return y[0, 0]


def main() -> tuple[np.ndarray, np.ndarray]:
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    K = np.array([[1.0, -1.0]])
    Y = corr2d(X, K)
    Yt = corr2d(X.T, K)
    assert np.array_equal(Y, corr2d(X, K, "fast")) and np.array_equal(Yt, corr2d(X.T, K, "fast"))
    print("X =\n", X, sep="")
    print("K =", K)
    print("Y = corr2d(X, K): 1 = white-to-black edge, -1 = black-to-white edge\n", Y, sep="")
    print("corr2d(X.T, K) =\n", Yt, sep="")
    if not Yt.any():
        print("on X.T the horizontal kernel K finds no edge: all zeros")
    return Y, Yt


if __name__ == "__main__":
    main()
