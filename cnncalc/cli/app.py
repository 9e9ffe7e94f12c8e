"""The command line: one typer app, assembled from the command groups. Nothing is counted here."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc import __version__
from cnncalc.cli import calc, picture, proof, reference, training

app = typer.Typer(
    name="cnncalc",
    no_args_is_help=True,
    add_completion=False,
    help="Shapes, parameters, operations and receptive fields of convolutional networks, "
    "from a YAML description or a built-in name, with every convention stated.",
)


for group in (calc, reference, proof, training, picture):
    app.add_typer(group.commands)


def _version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """cnncalc: a calculator for convolutional networks."""


def main() -> None:
    app()
