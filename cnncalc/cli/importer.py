"""``cnncalc import``: a network written elsewhere (an ONNX file) as cnncalc YAML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cnncalc.cli.options import InputOpt, guard, write_file

commands = typer.Typer()


@commands.command("import")
def import_(
    model: Annotated[Path, typer.Argument(help="The ONNX file to read.", show_default=False)],
    input: InputOpt = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "-o",
            "--output",
            help="Write the YAML to this file (default: stdout).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Read an ONNX file (never run it) and write the network as cnncalc YAML, with nested
    add/concat branches where the graph nests. Needs the onnx package: pip install
    'cnncalc[onnx]'. Every command also takes an .onnx file directly."""
    from cnncalc.model.onnx_import import onnx_to_yaml

    def run() -> None:
        # the analysis pipeline is imported only to read --input (issue 13: under a second)
        shape = None
        if input is not None:
            from cnncalc.analysis.pipeline import input_shape

            shape = input_shape(input)
        text = onnx_to_yaml(model, str(model), shape)
        if output is None:
            sys.stdout.write(text)
        else:
            write_file(output, text, "--output")

    guard(run)
