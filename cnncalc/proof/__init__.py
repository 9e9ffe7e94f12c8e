"""The proof of the numbers: the numpy reference executor (:mod:`executor`), ``verify`` that
checks every prediction against it (:mod:`verify`), and the export to PyTorch (:mod:`export`).
"""
