"""What the numbers are: per-layer statistics under a convention (:mod:`stats`), their working
(:mod:`explain`), training cost and memory, sweeps, comparisons, one-layer specs, the zoo's
catalogue, and the pipeline from a file to all of these (:mod:`pipeline`). Computes; never prints.
"""
