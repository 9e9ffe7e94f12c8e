"""NNDL exercise 5-7: a convolution is a sparse matrix C, and its backward pass
(the gradient with respect to the input) is Cᵀ times the output gradient,
which is exactly a transposed convolution with the same kernel.

For y = conv(x, w) (no bias), vec(y) = C vec(x) where row o of C holds the
kernel weights at the input positions output o reads.  For a loss L with
δ = ∂L/∂y, ∂L/∂x = Cᵀ δ -- and Cᵀ δ is conv_transpose(δ, w) with the same
stride and padding.  Checked here against finite differences.
Run: ``python examples/conv_as_matrix.py``.
"""

import sys
from pathlib import Path

import numpy as np

try:
    from cnncalc.proof.executor import get_ops
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnncalc.proof.executor import get_ops


def conv_matrix(w: np.ndarray, in_hw: tuple[int, int], stride: int, pad: int) -> np.ndarray:
    """C for a one-channel 2-D cross-correlation, built from its definition
    y[i, j] = Σ_uv w[u, v] x[i s + u - p, j s + v - p] (padding reads zero: no entry)."""
    H, W = in_hw
    U, V = w.shape
    Ho, Wo = (H + 2 * pad - U) // stride + 1, (W + 2 * pad - V) // stride + 1
    C = np.zeros((Ho * Wo, H * W))
    for i in range(Ho):
        for j in range(Wo):
            for u in range(U):
                for v in range(V):
                    r, c = i * stride + u - pad, j * stride + v - pad
                    if 0 <= r < H and 0 <= c < W:
                        C[i * Wo + j, r * W + c] += w[u, v]
    return C


def check(H=5, W=6, U=3, V=3, stride=2, pad=1, seed=0, impl="naive", verbose=True):
    rng = np.random.default_rng(seed)
    ops = get_ops(impl)
    x = rng.standard_normal((H, W))
    w = rng.standard_normal((U, V))
    y, _ = ops.conv(x[None, None], w[None, None], None, stride, pad)
    C = conv_matrix(w, (H, W), stride, pad)
    assert np.allclose(C @ x.ravel(), y.ravel()), "vec(y) = C vec(x)"
    delta = rng.standard_normal(y.shape[2:])  # dL/dy for L = Σ δ ⊙ y
    grad_matrix = (C.T @ delta.ravel()).reshape(H, W)
    # the output size of the transposed conv can fall short of H, W when the stride skipped
    # the last rows/columns; output_padding restores it (as PyTorch's input-gradient does)
    op = ((H + 2 * pad - U) % stride, (W + 2 * pad - V) % stride)
    gt, _ = ops.conv_transpose(delta[None, None], w[None, None], None, stride, pad, op)
    grad_transposed = gt[0, 0]
    eps = 1e-6
    grad_fd = np.zeros_like(x)
    for r in range(H):
        for c in range(W):
            d = np.zeros_like(x)
            d[r, c] = eps
            yp, _ = ops.conv((x + d)[None, None], w[None, None], None, stride, pad)
            ym, _ = ops.conv((x - d)[None, None], w[None, None], None, stride, pad)
            grad_fd[r, c] = ((yp - ym)[0, 0] * delta).sum() / (2 * eps)
    if verbose:
        print(
            f"x {H}x{W}, kernel {U}x{V}, stride {stride}, padding {pad} -> y {y.shape[2]}x{y.shape[3]}"
        )
        print(f"C is {C.shape[0]}x{C.shape[1]}, {np.count_nonzero(C)} of {C.size} entries non-zero")
        print("vec(y) = C vec(x): True")
        with np.printoptions(precision=4, suppress=True):
            print("Cᵀδ =\n", grad_matrix, sep="")
        print("Cᵀδ == conv_transpose(δ, w):", bool(np.allclose(grad_matrix, grad_transposed)))
        print(
            "Cᵀδ == finite differences of L = Σ δ ⊙ conv(x, w):",
            bool(np.allclose(grad_matrix, grad_fd, atol=1e-6)),
        )
    return C, grad_matrix, grad_transposed, grad_fd


def main():
    check()
    print()
    check(H=4, W=4, U=2, V=2, stride=1, pad=0)


if __name__ == "__main__":
    main()
