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


FRESH_BYTES = 32 * 2**20
"""Size from which an array the executor allocates is memory new to the process: glibc's
malloc serves a request of this size or more (its largest mmap threshold,
``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit) with a new ``mmap`` and unmaps it on ``free``, so
every such array is filled page by page for the first time. Measured here with numpy
(minor page faults an allocation, the mean of ten after a first): 24–90 for 1–31.5 MiB,
reused from the heap; 528 at 32 MiB and 640 at 256 MiB, a new mapping each time. A first
touch cost 0.8–2.3 ns a value in memory freed seconds before and 16–34 ns in memory this
virtual machine had given back to its host, against 0.2–0.5 ns for a second pass."""

FRESH_SAMPLE_SECONDS = 1.0
"""Filling new memory to price its first touch before a run stops after this long, or once
it has filled as much as the run will take (:func:`cnncalc.proof.executor.run.fresh_cost`).
On this virtual machine memory freed a moment before is backed by the host still (about
1 ns a value) and memory freed longer ago is given back and backed again on its first
touch (16–34 ns a value); a sample has to reach past the first kind to meet the second.
A second is 8 GB of the first kind and some 300 MB of the second: either the sample takes
all the run will take (which the run then finds backed), or it meets the dear kind."""

FRESH_SAMPLE_CHUNK = 64 * 2**20
"""The sample is filled in arrays of this size, all kept until it ends, each timed alone."""
