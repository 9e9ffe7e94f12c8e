"""The command line: ``app`` (the typer application) and ``main`` (the console script).

``app`` assembles the command groups (:mod:`calc`, :mod:`reference`, :mod:`proof`,
:mod:`training`); shared options live in :mod:`options`, which imports none of them.

Importing this package imports nothing else: ``main`` answers ``cnncalc --version``
without loading typer, and ``app`` is built on first use (issue 11: start-up).
"""

from __future__ import annotations

import gc
import os
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnncalc.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """The ``cnncalc`` console script."""
    if sys.argv[1:] == ["--version"]:
        from cnncalc import __version__

        print(f"cnncalc {__version__}")
        return
    # One command, then the process ends: what it builds (spec, graph, stats, records) holds
    # no reference cycles and is freed by reference counting, so the cyclic collector only
    # re-walks every object it made, 20 % of a 100,000-layer run (issue 11: scale)
    gc.disable()
    # pydantic looks up plugins in every installed distribution's entry points on the
    # first validation; cnncalc's command line uses none (a library caller keeps them)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    from cnncalc.cli.app import main as run

    run()


class _Package(types.ModuleType):
    """This package, whose ``app`` is the application, built on first use. (The import
    system binds a loaded submodule to its package's attribute of that name, so once
    anything imported the submodule ``cnncalc.cli.app``, a plain attribute would be the
    module, not the application: this property keeps the name for the application.)"""

    @property
    def app(self):
        from cnncalc.cli.app import app

        return app

    @app.setter
    def app(self, value) -> None:
        """The submodule ``cnncalc.cli.app`` being bound here on import: it stays in
        ``sys.modules``, and ``cnncalc.cli.app`` keeps meaning the application."""


sys.modules[__name__].__class__ = _Package
