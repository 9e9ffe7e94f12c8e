"""The command line: ``app`` (the typer application) and ``main`` (the console script).

``app`` assembles the command groups (:mod:`calc`, :mod:`reference`, :mod:`proof`,
:mod:`training`); shared options live in :mod:`options`, which imports none of them.
"""

from cnncalc.cli.app import app, main

__all__ = ["app", "main"]
