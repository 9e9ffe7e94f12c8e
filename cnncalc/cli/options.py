"""Options every command shares, and how a command prints and fails: one place, imported, never importing back."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional

import typer

from cnncalc.conventions.names import CONVENTION_NAMES, DECONV_COUNTS
from cnncalc.errors import CnnCalcError

if TYPE_CHECKING:
    from rich.console import Console


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


ConventionName = Enum(
    "ConventionName", {**{name: name for name in CONVENTION_NAMES}, "all": "all"}, type=str
)
"""The --convention choices: every convention of cnncalc.conventions by name, and 'all'."""
DeconvChoice = Enum("DeconvChoice", {name: name for name in DECONV_COUNTS}, type=str)


def complete_net(incomplete: str) -> list[str]:
    """Shell completion of NET: the built-in names that start with what was typed. None
    for what reads as a path (a / or a dot in it), so the shell completes file names."""
    if "/" in incomplete or "." in incomplete:
        return []
    from cnncalc.model.zoo import zoo_names

    return [name for name in zoo_names() if name.startswith(incomplete)]


Net = Annotated[
    str,
    typer.Argument(
        help="A YAML file, or a built-in name such as lenet5 or "
        "resnet50 ('cnncalc zoo' lists them).",
        show_default=False,
        autocompletion=complete_net,
    ),
]
InputOpt = Annotated[
    Optional[str],
    typer.Option(
        "--input",
        "-i",
        help="Override the input shape, channels first: 3x224x224 (default: the file's input).",
    ),
]
BatchOpt = Annotated[
    int, typer.Option("--batch", "-b", help="Batch size; counts are for the whole batch.")
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="table for people; json, csv (exact integers) or markdown."
    ),
]
ConventionOpt = Annotated[
    ConventionName,
    typer.Option(
        "--convention",
        "-c",
        help="Which operations count: macs (weighted multiply-accumulates, "
        "the torchvision docs' figure), exact (every multiplication "
        "and addition), nndl (NNDL's time and space complexity), "
        "lenet (LeNet-5's connections), or a peer tool's rule (torch, "
        "fvcore, ptflops, ptflops-aten, thop, torchinfo, torchscan, "
        "calflops); all (flops only): every convention's total and why "
        "it differs.",
    ),
]
DeconvOpt = Annotated[
    Optional[DeconvChoice],
    typer.Option(
        "--deconv-count",
        help="Where a transposed conv's MACs are counted: input (each input "
        "scatters one kernel: the work done, cnncalc's rule) or output (as "
        "if each output gathered one, as thop, torchinfo and torchscan "
        "count). Default: the convention's own.",
        show_default=False,
    ),
]


ExplainOpt = Annotated[
    bool,
    typer.Option(
        "--explain",
        "-e",
        metavar="",
        help="Show each layer's working: the formula, the formula with the "
        "layer's numbers, the result (Markdown/LaTeX with --format markdown).",
    ),
]


class By(str, Enum):
    kind = "kind"


ByOpt = Annotated[
    Optional[By],
    typer.Option(
        "--by",
        help="--by kind: totals per layer kind (conv vs fc: the AlexNet and VGG exercises); "
        "kind is the one grouping so far (default: one row per layer).",
    ),
]
PlotOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--plot",
        help="Also draw the table as bars in FILE (.png, .svg or .pdf; default: no plot). "
        "Needs matplotlib: pip install 'cnncalc[plot]'.",
        dir_okay=False,
        show_default=False,
    ),
]
TrainingOpt = Annotated[
    bool,
    typer.Option(
        "--training",
        "-t",
        metavar="",
        help="Add the backward pass: multiplications and additions of the "
        "input gradient (dX) and the weight gradient (dW) per layer.",
    ),
]


DepthOpt = Annotated[
    Optional[int],
    typer.Option(
        "--depth",
        min=1,
        help="Fold layers into their blocks by their dotted names, to this many parts "
        "(--depth 1: layer1, layer2, ...; --depth 2: layer1.0, ...), each block with its "
        "subtotals and the shape out of it. JSON keeps every layer and adds the blocks. "
        "Default: every layer.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--output",
        "-o",
        help="Write the output to this file instead (default: standard output).",
        show_default=False,
    ),
]
"""-o FILE: the one meaning of -o in every command that writes an output."""
ExactOpt = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Keep every number of the table a whole integer however narrow the terminal "
        "(a wide table is split rather than shown in K/M/G units). Default: compact units "
        "only where a table would not fit.",
    ),
]


def for_people() -> bool:
    """Standard output is a terminal, or declared one by TTY_COMPATIBLE=1 (as rich reads it)."""
    return sys.stdout.isatty() or os.environ.get("TTY_COMPATIBLE") == "1"


def stdout() -> Console:
    """Colour and the terminal's width for people; plain text at its natural width when
    piped. TTY_COMPATIBLE=1 declares a terminal, as rich reads it (with COLUMNS its width).
    (rich is imported here, not above: a command that writes JSON or CSV never loads it.)
    No emoji codes: a network named ``net :fire:`` is shown as written (and rich's table of
    emoji, some 3 ms, is never loaded)."""
    from rich.console import Console

    if for_people():
        return Console(emoji=False)
    return Console(width=200, color_system=None, force_terminal=False, emoji=False)


def error_line(message: str, hint: str | None = None) -> None:
    """The one line every failure prints on standard error: ``error: what (what to do)``."""
    from rich.console import Console
    from rich.markup import escape

    text = f"{message} ({hint})" if hint else message
    Console(stderr=True, soft_wrap=True, highlight=False, emoji=False).print(
        f"[bold red]error:[/] {escape(text)}", markup=True
    )


def wrote(path: Path) -> None:
    """Name a file a command wrote besides its output (a plot), on standard error."""
    from rich.console import Console

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"wrote {path}", markup=False)


def fail(exc: CnnCalcError) -> None:
    error_line(str(exc))
    raise typer.Exit(2)


def check_target(path: Path, option: str) -> None:
    """Refuse an output file that cannot be written, before any work is done: a folder, or
    a file in a folder that does not exist."""
    if path.is_dir():
        raise CnnCalcError(
            f"'{path}' is a folder",
            field=option,
            hint=f"give a file name inside it, e.g. {path / 'out.txt'}",
        )
    if not path.parent.is_dir():
        raise CnnCalcError(
            f"the folder '{path.parent}' of '{path}' does not exist",
            field=option,
            hint="create it first",
        )


def guard(fn: Callable[[], None]) -> None:
    try:
        fn()
    except CnnCalcError as exc:
        fail(exc)


EXPLAIN_TOPICS = {"shape": "shape", "params": "params", "flops": "flops", "summary": "all"}
"""What --explain explains for each command."""


def print_out(out, output: Path | None = None) -> None:
    """Text, pieces of text (an iterator: a long JSON document, written as it is made), or
    a rich renderable; on standard output, or into the file of ``-o/--output`` (written as
    a pipe gets it: plain text at its natural width), named on standard error."""
    if output is None:
        _write(out, sys.stdout, stdout)
        return
    from rich.console import Console

    check_target(output, "--output")
    try:
        handle = output.open("w", encoding="utf-8")
    except OSError as exc:
        raise CnnCalcError(
            f"cannot write '{output}': {exc.strerror or exc}", field="--output"
        ) from None
    try:
        with handle:
            _write(
                out,
                handle,
                lambda: Console(
                    file=handle, width=200, color_system=None, force_terminal=False, emoji=False
                ),
            )
    except OSError as exc:  # a full disk: no half file
        _drop(output)
        raise CnnCalcError(
            f"cannot write '{output}': {exc.strerror or exc}", field="--output"
        ) from None
    except CnnCalcError:  # a document written as it is made failed part way: no half file
        _drop(output)
        raise
    wrote(output)


def _drop(path: Path) -> None:
    """Remove a half-written output file: a regular file only, never a device (/dev/full)."""
    if path.is_file():
        path.unlink()


def _write(out, handle, console: Callable[[], Console]) -> None:
    """``console`` makes the rich console for a renderable (a JSON or CSV command never
    loads rich)."""
    if isinstance(out, str):
        handle.write(out)
    elif isinstance(out, Iterator):
        handle.writelines(out)
    else:
        console().print(out, crop=False)
