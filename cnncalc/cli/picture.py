"""``cnncalc graph``: the network as a picture (Graphviz DOT or Mermaid)."""

from enum import Enum
from typing import Annotated

import typer

from cnncalc.cli.options import (
    ConventionName,
    ConventionOpt,
    DepthOpt,
    InputOpt,
    Net,
    OutputOpt,
    guard,
    print_out,
)

commands = typer.Typer()


class PictureFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


@commands.command()
def graph(
    net: Net,
    input: InputOpt = None,
    depth: DepthOpt = None,
    format: Annotated[
        PictureFormat,
        typer.Option(
            "--format",
            "-f",
            help="dot (Graphviz: dot -Tsvg), mermaid (for Markdown pages that render it) or "
            "json (the nodes and edges).",
        ),
    ] = PictureFormat.dot,
    convention: ConventionOpt = ConventionName.macs,
    output: OutputOpt = None,
) -> None:
    """The network as a graph: one node per layer (or per block with --depth) labelled
    with its name, kind, output shape, parameters and MACs; edges follow the data flow,
    branches and joins as they are.

    cnncalc graph googlenet --depth 1 | dot -Tsvg > googlenet.svg
    """
    from cnncalc.analysis.picture import pictures
    from cnncalc.analysis.pipeline import input_shape, load
    from cnncalc.errors import CnnCalcError
    from cnncalc.render.picture import render_picture

    def run() -> None:
        if convention.value == "all":
            raise CnnCalcError(
                "a graph's MACs are under one convention", field="--convention", hint="macs"
            )
        spec = load(net)
        drawn = pictures(spec, input_shape(input), convention.value, depth)
        print_out(render_picture(drawn, format.value, spec.name), output)

    guard(run)
