"""NNDL exercise 5-2: wide convolution is commutative, x ⊗̃ w = w ⊗̃ x.

Wide convolution (NNDL 5.1.2.2) is true convolution -- the kernel flipped --
with both sides zero-padded by kernel size - 1, so every overlap of x and w
counts: an M x N input and a U x V kernel give (M + U - 1) x (N + V - 1).
Flipping makes it a commutative product (like polynomial multiplication);
cross-correlation is not commutative, it comes out reversed.
Run: ``python examples/wide_convolution.py``.
"""

import sys
from pathlib import Path

import numpy as np

try:
    from cnncalc.proof.executor import get_ops
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnncalc.proof.executor import get_ops


def wide_conv(a: np.ndarray, b: np.ndarray, impl: str = "naive", flip: bool = True) -> np.ndarray:
    """a ⊗̃ b: a as the input, b as the kernel, padded by b's size - 1 on each side."""
    pad = tuple((k - 1, k - 1) for k in b.shape)
    y, _ = get_ops(impl).conv(
        a.reshape((1, 1) + a.shape), b.reshape((1, 1) + b.shape), pad=pad, flip=flip
    )
    return y[0, 0]


def main(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=(4, 5)).astype(float)
    w = rng.integers(-3, 4, size=(2, 3)).astype(float)
    xw, wx = wide_conv(x, w), wide_conv(w, x)
    for impl in ("naive", "fast"):
        assert np.allclose(wide_conv(x, w, impl), xw) and np.allclose(wide_conv(w, x, impl), xw)
    print("x =\n", x, sep="")
    print("w =\n", w, sep="")
    print(f"x ⊗̃ w  ({x.shape[0]}+{w.shape[0]}-1) x ({x.shape[1]}+{w.shape[1]}-1) =\n", xw, sep="")
    print("w ⊗̃ x =\n", wx, sep="")
    print("commutative:", bool(np.allclose(xw, wx)))
    cx, cw = wide_conv(x, w, flip=False), wide_conv(w, x, flip=False)
    print(
        "cross-correlation instead (no flip): equal?",
        bool(np.allclose(cx, cw)),
        "-- reversed on both axes?",
        bool(np.allclose(cx, cw[::-1, ::-1])),
    )
    return xw, wx


if __name__ == "__main__":
    main()
