"""Commands and options for training cost, memory, grouping, sweeps and plots:
``flops --training``, ``--by kind``, ``--plot``, ``memory``, ``sweep``, ``minsize``."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from cnncalc.cli.options import (
    BatchOpt,
    By,
    ByOpt,
    ConventionName,
    ConventionOpt,
    DepthOpt,
    ExactOpt,
    Format,
    FormatOpt,
    InputOpt,
    Net,
    OutputOpt,
    PlotOpt,
    guard,
    print_out,
    wrote,
)

commands = typer.Typer()


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"
    int8 = "int8"


class OptimizerName(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


DtypeOpt = Annotated[
    Dtype, typer.Option("--dtype", help="Bytes per value: fp32 4, fp16 and bf16 2, int8 1.")
]
"""No short flag: -d is conv's --dilation."""
OptimizerOpt = Annotated[
    OptimizerName,
    typer.Option(
        "--optimizer",
        help="State kept per parameter: sgd none, momentum 1 buffer, adam 2 "
        "(plus a float32 step per parameter tensor).",
    ),
]
"""No short flag: -o is the output file in every command."""

PLOT_SERIES = {
    "flops": (("flops",), "FLOPs"),
    "summary": (("flops",), "FLOPs"),
    "params": (("params",), "parameters"),
    "training": (("forward", "backward"), "FLOPs"),
    "memory": (("params", "gradients", "optimizer", "buffers", "activations"), "bytes"),
}


def _emit(
    tables, fmt: Format, study: str | None, exact: bool = False, output: Path | None = None
) -> None:
    from cnncalc.render.tables import render_rows

    print_out(render_rows(tables, fmt.value, study, exact), output)


def _check_output(output: Path | None) -> None:
    """``-o adam`` was the optimizer before -o meant the output file everywhere: say so
    rather than write a file called adam."""
    if output is not None and output.name in {o.value for o in OptimizerName}:
        from cnncalc.errors import CnnCalcError

        raise CnnCalcError(
            f"-o is the file to write the output to, and '{output}' reads like an optimizer",
            field="--output",
            hint=f"--optimizer {output.name}",
        )


def _check_plot(path: Path | None) -> None:
    """Refuse a bad --plot file before any work is done."""
    if path is not None:
        from cnncalc.render.plot import check_path

        check_path(path)


def _targets(path: Path, count: int) -> list[Path]:
    """One file per table: FILE.png, or FILE-1.png, FILE-2.png … for a study's variants."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i + 1}{path.suffix}") for i in range(count)]


def _plot(tables, view: str, path: Path | None) -> None:
    if path is None:
        return
    from cnncalc.render.plot import bars

    series, unit = PLOT_SERIES[view]
    for t, target in zip(tables, _targets(path, len(tables))):
        bars(t, series, target, unit)
        wrote(target)


def layer_views(
    view: str,
    net: str | None,
    input: str | None,
    batch: int,
    fmt: Format,
    convention: ConventionName,
    by: "By | None",
    plot: Path | None,
    training: bool = False,
    explain: bool = False,
    compare: list[str] | None = None,
    deconv: Enum | None = None,
    depth: int | None = None,
    exact: bool = False,
    output: Path | None = None,
) -> None:
    """``flops``/``params``/``summary`` with --training, --by kind or --plot."""
    from cnncalc.analysis.pipeline import analyze, input_shape, load, variants
    from cnncalc.analysis.pipeline import training as training_cost
    from cnncalc.errors import CnnCalcError
    from cnncalc.render.analysis import analysis_table
    from cnncalc.render.views import by_kind_table, training_rows

    def run() -> None:
        if explain or compare:
            raise CnnCalcError(
                "--training, --by and --plot take one network (or study), without --explain "
                "or --compare",
                field="--explain" if explain else "--compare",
                hint="run them as separate commands",
            )
        if net is None:
            raise CnnCalcError("give a network", hint=f"cnncalc {view} resnet18 --training")
        if depth is not None and (training or by is not None):
            raise CnnCalcError(
                "--depth folds the table of layers into blocks; --training and --by kind "
                "show other tables",
                field="--depth",
                hint="run them as separate commands",
            )
        if convention.value == "all":
            raise CnnCalcError(
                "--training, --by and --plot show one convention; --convention "
                "all lists every convention's total",
                field="--convention",
                hint="choose one, e.g. --convention exact",
            )
        if training and deconv is not None:
            raise CnnCalcError(
                "the backward pass counts a transposed conv on its input",
                field="--deconv-count",
                hint="drop --deconv-count",
            )
        _check_plot(plot)
        spec = load(net)
        shape = input_shape(input)
        tables = []
        for s in variants(spec):
            if training:
                t = training_rows(training_cost(s, shape, batch, convention.value))
            else:
                t = analysis_table(
                    analyze(s, shape, batch, convention.value, deconv.value if deconv else None),
                    view,
                    depth,
                )
            if by is not None:
                t = by_kind_table(
                    t,
                    "training" if training else ("flops" if view in ("flops", "summary") else None),
                )
            tables.append(t)
        _emit(tables, fmt, spec.name if spec.variants else None, exact, output)
        _plot(tables, "training" if training else view, plot)

    guard(run)


@commands.command()
def memory(
    net: Net,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    dtype: DtypeOpt = Dtype.fp32,
    optimizer: OptimizerOpt = OptimizerName.sgd,
    format: FormatOpt = Format.table,
    by: ByOpt = None,
    plot: PlotOpt = None,
    depth: DepthOpt = None,
    exact: ExactOpt = False,
    output: OutputOpt = None,
) -> None:
    """Training memory per layer: parameters, gradients, optimizer state, buffers, and the
    activations autograd keeps for the backward pass, in exact bytes."""
    from cnncalc.analysis.pipeline import input_shape, load, variants
    from cnncalc.analysis.pipeline import memory as memory_of
    from cnncalc.errors import CnnCalcError
    from cnncalc.render.views import by_kind_table, memory_rows

    def run() -> None:
        if depth is not None and by is not None:
            raise CnnCalcError(
                "--depth folds layers into blocks and --by kind into kinds: one at a time",
                field="--depth",
                hint="drop --depth or --by",
            )
        _check_output(output)
        _check_plot(plot)
        spec = load(net)
        shape = input_shape(input)
        tables = [
            memory_rows(memory_of(s, shape, batch, dtype.value, optimizer.value), depth)
            for s in variants(spec)
        ]
        if by is not None:
            tables = [by_kind_table(t) for t in tables]
        _emit(tables, format, spec.name if spec.variants else None, exact, output)
        _plot(tables, "memory", plot)

    guard(run)


@commands.command()
def sweep(
    net: Net,
    input: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            help="Input sizes: 3x{32..512..32} (first..last..step), "
            "3x{224,256}, or shapes separated by commas; 3xN means "
            "N along every spatial axis.",
        ),
    ],
    more: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="More shapes (what the shell makes of an unquoted brace range).",
            show_default=False,
        ),
    ] = None,
    batch: BatchOpt = 1,
    dtype: DtypeOpt = Dtype.fp32,
    optimizer: OptimizerOpt = OptimizerName.sgd,
    convention: ConventionOpt = ConventionName.macs,
    format: FormatOpt = Format.table,
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            help="Also draw parameters, MACs and training memory as curves against the "
            "input size in FILE (.png, .svg or .pdf; default: no plot). Needs matplotlib: "
            "pip install 'cnncalc[plot]'.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Output shape, parameters, MACs and training memory at each input size, and the
    smallest input size every layer takes."""
    from cnncalc.analysis.pipeline import load, variants
    from cnncalc.analysis.sweep import sweep as run_sweep
    from cnncalc.analysis.sweep import sweep_shapes
    from cnncalc.render.views import sweep_rows

    def run() -> None:
        _check_output(output)
        _check_plot(plot)
        spec = load(net)
        tables = []
        for s in variants(spec):
            shapes = sweep_shapes([input] + list(more or []), s.input)
            tables.append(
                sweep_rows(
                    run_sweep(s, shapes, batch, convention.value, dtype.value, optimizer.value)
                )
            )
        _emit(tables, format, spec.name if spec.variants else None, output=output)
        if plot is not None:
            from cnncalc.render.plot import curves

            for t, target in zip(tables, _targets(plot, len(tables))):
                curves(
                    t,
                    (
                        ("params", "parameters"),
                        ("macs", "MACs"),
                        ("memory", "training memory (bytes)"),
                    ),
                    target,
                )
                wrote(target)

    guard(run)


@commands.command()
def minsize(net: Net, format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """The smallest input (every spatial axis the same size) for which every layer is valid,
    and why one pixel less fails."""
    from cnncalc.analysis.pipeline import load, variants
    from cnncalc.analysis.sweep import min_size
    from cnncalc.render.views import minsize_rows

    def run() -> None:
        spec = load(net)
        _emit(
            [minsize_rows(min_size(s)) for s in variants(spec)],
            format,
            spec.name if spec.variants else None,
            output=output,
        )

    guard(run)
