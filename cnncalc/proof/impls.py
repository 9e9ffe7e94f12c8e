"""The executor's two implementations, by name, and the sizes both the fast executor and
verify's estimate of it read, without importing numpy."""

IMPLS = ("naive", "fast")
"""naive: the definition as loops, counting every operation; fast: im2col + BLAS."""

COLUMNS_PER_CHUNK = 2**22
"""im2col values the fast conv makes at a time (32 MB of float64): on a large map it makes
its columns a band of output rows at a time, so no buffer of a gigabyte or more is ever made
(U-Net's second conv would need 1.5 GB at once, and fresh memory of that size took 5 s to
fill on a shared machine, against 0.2 s for the same copy in 32 MB bands)."""


def band_rows(columns_per_row: int) -> int:
    """Output rows (first spatial axis) in one im2col band of a fast conv's group, whose one
    row of output positions needs ``columns_per_row`` values: at least one, else as many as
    :data:`COLUMNS_PER_CHUNK` allows."""
    return max(1, COLUMNS_PER_CHUNK // columns_per_row)
