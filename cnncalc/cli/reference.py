"""Reference commands: ``answers``, ``zoo``, ``kinds`` and ``schema``."""

from typing import Annotated, Optional

import typer

from cnncalc.cli.options import Format, FormatOpt, OutputOpt, guard, print_out

commands = typer.Typer()


@commands.command()
def answers(
    name: Annotated[
        Optional[str],
        typer.Argument(help="The answer to work out (without it, the list).", show_default=False),
    ] = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Worked textbook answers: the question, the working, the answer, and a note where
    course notes commonly state another number. --format markdown for an answer key."""
    from cnncalc.answers import answer, entries, grouped
    from cnncalc.render.answers import render_answer, render_answer_list

    def run() -> None:
        print_out(
            render_answer(answer(name), format.value)
            if name
            else render_answer_list(grouped(entries()), format.value),
            output,
        )

    guard(run)


@commands.command()
def zoo(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in networks and studies."""
    from cnncalc.analysis.catalog import catalog
    from cnncalc.render.catalog import catalog_render

    def run() -> None:
        print_out(catalog_render(catalog(), format.value), output)

    guard(run)


@commands.command()
def kinds(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """Every layer kind: how it is written, its options with their types and defaults, and
    its rule in one line."""
    from cnncalc.kinds.describe import describe_kinds
    from cnncalc.render.catalog import kinds_render

    def run() -> None:
        print_out(kinds_render(describe_kinds(), format.value), output)

    guard(run)


@commands.command()
def schema(output: OutputOpt = None) -> None:
    """Print the JSON Schema of the YAML format (for editor completion)."""
    import json

    from cnncalc.model.schema import network_schema

    def run() -> None:
        print_out(json.dumps(network_schema(), indent=2, ensure_ascii=False) + "\n", output)

    guard(run)
