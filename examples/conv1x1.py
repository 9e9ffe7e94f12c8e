"""d2l 7.4.3: a 1 x 1 convolution is a matrix multiplication over the channels.

Y[c_o, h, w] = Σ_ci K[c_o, c_i] X[c_i, h, w], i.e. Y = K @ X with X reshaped to
(c_i, h·w) -- d2l's ``corr2d_multi_in_out_1x1``, checked against the loop
definition.  Run: ``python examples/conv1x1.py``.
"""

import sys
from pathlib import Path

import numpy as np

try:
    from cnncalc.proof.executor import get_ops
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnncalc.proof.executor import get_ops


def corr2d_multi_in_out_1x1(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h, w)


def main(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (3, 3, 3))
    K = rng.normal(0, 1, (2, 3, 1, 1))
    Y1 = corr2d_multi_in_out_1x1(X, K)
    Y2, count = get_ops("naive").conv(X[None], K)
    same = bool(np.abs(Y1 - Y2[0]).sum() < 1e-6)
    print("X: 3 channels of 3x3; K: 2 output x 3 input channels, 1x1")
    print("Y = K @ X (as matrices) =\n", np.round(Y1, 4), sep="")
    print("equals the loop convolution:", same)
    print(
        f"operations: {count.mults} mults = c_o·h·w·c_i = 2·3·3·3, {count.adds} adds = 2·3·3·(3 − 1)"
    )
    return Y1, Y2[0]


if __name__ == "__main__":
    main()
