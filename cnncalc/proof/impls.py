"""The executor's two implementations, by name, without importing numpy."""

IMPLS = ("naive", "fast")
"""naive: the definition as loops, counting every operation; fast: im2col + BLAS."""
