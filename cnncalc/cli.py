"""The command line: parse options, call the library, print. Nothing is counted here."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .conventions import CONVENTIONS, DECONV_COUNTS
from .errors import CnnCalcError

app = typer.Typer(
    name="cnncalc", no_args_is_help=True, add_completion=False,
    help="Shapes, parameters, operations and receptive fields of convolutional networks, "
         "from a YAML description or a built-in name, with every convention stated.")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


ConventionName = Enum("ConventionName", {**{name: name for name in CONVENTIONS}, "all": "all"},
                      type=str)
"""The --convention choices: every convention of cnncalc.conventions by name, and 'all'."""
DeconvCount = Enum("DeconvCount", {name: name for name in DECONV_COUNTS}, type=str)


Net = Annotated[str, typer.Argument(help="A YAML file, or a built-in name such as lenet5 or "
                                          "resnet50 ('cnncalc zoo' lists them).",
                                    show_default=False)]
InputOpt = Annotated[Optional[str], typer.Option(
    "--input", "-i", help="Override the input shape, channels first: 3x224x224.")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="Batch size; counts are for the "
                                       "whole batch.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table for people; json, "
                                           "csv (exact integers) or markdown.")]
ConventionOpt = Annotated[ConventionName, typer.Option(
    "--convention", "-c", help="Which operations count: macs (weighted multiply-accumulates, "
                               "the torchvision docs' figure), exact (every multiplication "
                               "and addition), nndl (NNDL's time and space complexity), "
                               "lenet (LeNet-5's connections), or a peer tool's rule (torch, "
                               "fvcore, ptflops, ptflops-aten, thop, torchinfo, torchscan, "
                               "calflops); all (flops only): every convention's total and why "
                               "it differs.")]
DeconvOpt = Annotated[Optional[DeconvCount], typer.Option(
    "--deconv-count", help="Where a transposed conv's MACs are counted: input (each input "
                           "scatters one kernel: the work done, cnncalc's rule) or output (as "
                           "if each output gathered one, as thop, torchinfo and torchscan "
                           "count). Default: the convention's own.", show_default=False)]


ExplainOpt = Annotated[bool, typer.Option(
    "--explain", "-e", help="Show each layer's working: the formula, the formula with the "
                            "layer's numbers, the result (Markdown/LaTeX with --format markdown).")]


class By(str, Enum):
    kind = "kind"


ByOpt = Annotated[Optional[By], typer.Option(
    "--by", help="Totals per layer kind instead of per layer (conv vs fc: the AlexNet and VGG "
                 "exercises).")]
PlotOpt = Annotated[Optional[Path], typer.Option(
    "--plot", help="Also draw the table as bars in FILE.png or FILE.svg (needs matplotlib: "
                   "pip install 'cnncalc[plot]').", dir_okay=False, show_default=False)]
TrainingOpt = Annotated[bool, typer.Option(
    "--training", "-t", help="Add the backward pass: multiplications and additions of the "
                             "input gradient (dX) and the weight gradient (dW) per layer.")]


def _stdout() -> Console:
    """Colour and the terminal's width for people; plain 200-column text when piped."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=200, color_system=None, force_terminal=False)


def _fail(exc: CnnCalcError) -> None:
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        f"[bold red]error:[/] {escape(str(exc))}", markup=True)
    raise typer.Exit(2)


def _guard(fn: Callable[[], None]) -> None:
    try:
        fn()
    except CnnCalcError as exc:
        _fail(exc)


TOPICS = {"shape": "shape", "params": "params", "flops": "flops", "summary": "all"}
"""What --explain explains for each command."""


def _print(out) -> None:
    if isinstance(out, str):
        sys.stdout.write(out)
    else:
        _stdout().print(out)


def _report(view: str, net: str, input: str | None, batch: int, fmt: Format,
            convention: ConventionName, explain: bool = False,
            deconv: DeconvCount | None = None) -> None:
    from .api import analyze_each, compare_conventions, explain_each, input_shape, load
    from .report import render_conventions_each, render_each

    def run() -> None:
        spec = load(net)
        study = spec.name if spec.variants else None
        options = dict(input=input_shape(input), batch=batch,
                       deconv=deconv.value if deconv else None)
        if convention.value == "all":
            if view != "flops" or explain:
                raise CnnCalcError("'all' compares every convention's total; it is for "
                                   "cnncalc flops, without --explain", field="--convention",
                                   hint=f"cnncalc flops {net} --convention all")
            _print(render_conventions_each(compare_conventions(spec, **options), fmt.value, study))
            return
        options["convention"] = convention.value
        items = (explain_each(spec, TOPICS[view], **options) if explain
                 else analyze_each(spec, **options))
        _print(render_each(items, view, fmt.value, study))
    _guard(run)


@app.command()
def shape(net: Net, input: InputOpt = None, batch: BatchOpt = 1,
          format: FormatOpt = Format.table,
          convention: ConventionOpt = ConventionName.macs, explain: ExplainOpt = False) -> None:
    """Per-layer output shape, receptive field and jump."""
    _report("shape", net, input, batch, format, convention, explain)


@app.command()
def params(net: Net, input: InputOpt = None, batch: BatchOpt = 1,
           format: FormatOpt = Format.table,
           convention: ConventionOpt = ConventionName.macs, explain: ExplainOpt = False,
           by: ByOpt = None, plot: PlotOpt = None) -> None:
    """Per-layer trainable parameters, buffers, connections (as LeNet-5 counts them) and memory."""
    if by is not None or plot is not None:
        return cli_training.layer_views("params", net, input, batch, format, convention, by, plot,
                                        explain=explain)
    _report("params", net, input, batch, format, convention, explain)


@app.command()
def flops(net: Annotated[Optional[str], typer.Argument(
              help="A YAML file or a built-in name; optional with --compare.",
              show_default=False)] = None,
          compare: Annotated[Optional[list[str]], typer.Option(
              "--compare", help="Side by side with ratios: a study's variants (--compare "
                                "bottleneck, or a YAML file with variants:), or NET next to "
                                "another network (NET --compare OTHER; repeatable).")] = None,
          input: InputOpt = None, batch: BatchOpt = 1,
          format: FormatOpt = Format.table,
          convention: ConventionOpt = ConventionName.macs, explain: ExplainOpt = False,
          deconv_count: DeconvOpt = None,
          training: TrainingOpt = False, by: ByOpt = None, plot: PlotOpt = None) -> None:
    """Per-layer multiplications, additions, MACs, FLOPs and share of the total; with
    --compare, networks and study variants side by side with the ratios between them; with
    --convention all, every convention's total and why each differs from macs. --training
    adds the backward pass, --by kind totals per kind, --plot draws the bars."""
    if training or by is not None or plot is not None:
        return cli_training.layer_views("flops", net, input, batch, format, convention, by, plot,
                                        training, explain, compare, deconv_count)
    if not compare:
        if net is None:
            _fail(CnnCalcError("give a network, or a study to compare",
                               hint="cnncalc flops resnet18, or cnncalc flops --compare bottleneck"))
        _report("flops", net, input, batch, format, convention, explain, deconv_count)
        return
    if convention.value == "all" or deconv_count is not None:
        _fail(CnnCalcError("--compare compares under one convention, with each convention's "
                           "own transposed-conv count", field="--compare",
                           hint="drop --convention all and --deconv-count, or --compare"))
    from .api import input_shape
    from .compare import compare_files
    from .report import render_compare

    def run() -> None:
        comparison = compare_files(([net] if net else []) + list(compare), input_shape(input),
                                   batch, convention.value, "flops" if explain else None)
        _print(render_compare(comparison, format.value))
    _guard(run)


@app.command()
def summary(net: Net, input: InputOpt = None, batch: BatchOpt = 1,
            format: FormatOpt = Format.table,
            convention: ConventionOpt = ConventionName.macs, explain: ExplainOpt = False,
            deconv_count: DeconvOpt = None) -> None:
    """Everything in one table: shapes, parameters, MACs, FLOPs, activations, receptive field."""
    _report("summary", net, input, batch, format, convention, explain, deconv_count)


class PoolMode(str, Enum):
    max = "max"
    avg = "avg"


@app.command()
def conv(
    input: Annotated[str, typer.Option(
        "--input", "-i", show_default=False,
        help="The input's spatial size: 8x8 (H×W), 32 (L) or 4x8x8 (D×H×W); the channels "
             "are --in-channels.")],
    kernel: Annotated[str, typer.Option("--kernel", "-k", show_default=False,
                                        help="Kernel: 3, or one per axis: 3x5 (or 3,5).")],
    stride: Annotated[Optional[str], typer.Option(
        help="Stride: 2 or 3,4 (default 1; for --pool, the kernel).")] = None,
    padding: Annotated[Optional[str], typer.Option(
        help="Padding per side, as PyTorch takes it: 1, 0,1 (per axis), 0,1,2,3 (top, bottom, "
             "left, right), same or valid (default 0). The working shows the total.")] = None,
    dilation: Annotated[Optional[str], typer.Option(help="Dilation: 2 or 1,2.")] = None,
    in_channels: Annotated[int, typer.Option("--in-channels", help="Input channels c_i.")] = 1,
    out_channels: Annotated[Optional[int], typer.Option(
        "--out-channels", help="Output channels c_o (default 1).")] = None,
    groups: Annotated[int, typer.Option(help="Groups (c_i and c_o must be multiples).")] = 1,
    bias: Annotated[bool, typer.Option("--bias/--no-bias", help="A bias per output map.")] = True,
    pool: Annotated[Optional[PoolMode], typer.Option(
        help="A max or avg pooling layer instead of a convolution.")] = None,
    batch: BatchOpt = 1, format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
) -> None:
    """One convolution (or pooling) layer from flags, no YAML: its output shape, parameters
    and operations with the working.

    cnncalc conv --input 8x8 --kernel 3x5 --padding 0,1 --stride 3,4
    """
    from .report import render_working
    from .single import explain_single

    def run() -> None:
        working = explain_single(
            "all", batch, convention.value, input=input, kernel=kernel, stride=stride,
            pad=padding, dilation=dilation, in_channels=in_channels, out_channels=out_channels,
            groups=groups, bias=bias, pool=pool.value if pool else None)
        _print(render_working(working, format.value))
    _guard(run)


@app.command()
def answers(
    name: Annotated[Optional[str], typer.Argument(
        help="The answer to work out (without it, the list).", show_default=False)] = None,
    format: FormatOpt = Format.table,
) -> None:
    """Worked textbook answers: the question, the working, the answer, and a note where
    course notes commonly state another number. --format markdown for an answer key."""
    from .answers import answer, entries
    from .report import render_answer, render_answer_list

    def run() -> None:
        _print(render_answer(answer(name), format.value) if name
               else render_answer_list(entries(), format.value))
    _guard(run)


@app.command()
def zoo(format: FormatOpt = Format.table) -> None:
    """List the built-in networks and studies."""
    from .catalog import catalog, catalog_render

    def run() -> None:
        _print(catalog_render(catalog(), format.value))
    _guard(run)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the YAML format (for editor completion)."""
    from .schema import network_schema
    sys.stdout.write(json.dumps(network_schema(), indent=2, ensure_ascii=False) + "\n")


def _version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = False) -> None:
    """cnncalc: a calculator for convolutional networks."""


def main() -> None:
    app()


# commands that live in their own modules register themselves on `app`
from . import cli_proof, cli_training  # noqa: E402,F401
