"""The command line: ``app`` (the typer application) and ``main`` (the console script).

``app`` assembles the command groups (:mod:`calc`, :mod:`reference`, :mod:`proof`,
:mod:`training`); shared options live in :mod:`options`, which imports none of them.

Importing this package imports nothing else: ``main`` answers ``cnncalc --version``
without loading typer, and ``app`` is built on first use (issue 11: start-up). The command
modules do without ``from __future__ import annotations``: typer reads every command's
signature to build the command line, and real annotations spare it compiling and
evaluating each one from a string.
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
    stand_in_plugin_loader()
    from cnncalc.cli.app import main as run

    run()


PLUGIN_LOADER = "pydantic.plugin._loader"
"""pydantic's plugin loader, imported on the first validation whatever the settings."""


def stand_in_plugin_loader() -> None:
    """With every pydantic plugin disabled (PYDANTIC_DISABLE_PLUGINS=1), pydantic's loader
    answers no plugins without reading a thing, but importing it imports
    ``importlib.metadata``, 15 ms of every command (issue 11: start-up). Its one function,
    giving that same answer, stands in for it; disabling only some plugins by name keeps
    the real loader."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ("1", "true", "__all__"):
        return
    loader = types.ModuleType(PLUGIN_LOADER, "No plugins: PYDANTIC_DISABLE_PLUGINS is set.")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules.setdefault(PLUGIN_LOADER, loader)


def _no_plugins() -> tuple:
    return ()


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
