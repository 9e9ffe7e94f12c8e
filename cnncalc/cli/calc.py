"""The calculator's commands: ``shape``, ``params``, ``flops``, ``summary`` and ``conv``."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from cnncalc.cli.options import (
    EXPLAIN_TOPICS,
    BatchOpt,
    ByOpt,
    ConventionName,
    ConventionOpt,
    DeconvChoice,
    DeconvOpt,
    DepthOpt,
    ExactOpt,
    ExplainOpt,
    Format,
    FormatOpt,
    InputOpt,
    Net,
    OutputOpt,
    PlotOpt,
    TrainingOpt,
    complete_net,
    fail,
    guard,
    print_out,
)
from cnncalc.errors import CnnCalcError

commands = typer.Typer()


def _report(
    view: str,
    net: str,
    input: str | None,
    batch: int,
    fmt: Format,
    convention: ConventionName,
    explain: bool = False,
    deconv: DeconvChoice | None = None,
    depth: int | None = None,
    exact: bool = False,
    output: Path | None = None,
) -> None:
    from cnncalc.analysis.pipeline import (
        analyze_each,
        compare_conventions,
        explain_each,
        input_shape,
        load,
    )
    from cnncalc.render.document import render_each

    def run() -> None:
        spec = load(net)
        study = spec.name if spec.variants else None
        options = dict(
            input=input_shape(input), batch=batch, deconv=deconv.value if deconv else None
        )
        if depth is not None and (explain or convention.value == "all"):
            raise CnnCalcError(
                "--depth folds the table of layers; --explain and --convention all have "
                "no such table",
                field="--depth",
                hint="drop --depth",
            )
        if convention.value == "all":
            if view != "flops" or explain:
                raise CnnCalcError(
                    "'all' compares every convention's total; it is for "
                    "cnncalc flops, without --explain",
                    field="--convention",
                    hint=f"cnncalc flops {net} --convention all",
                )
            from cnncalc.render.conventions import render_conventions_each

            print_out(
                render_conventions_each(
                    compare_conventions(spec, **options), fmt.value, study, exact
                ),
                output,
            )
            return
        options["convention"] = convention.value
        items = (
            explain_each(spec, EXPLAIN_TOPICS[view], **options)
            if explain
            else analyze_each(spec, **options)
        )
        print_out(render_each(items, view, fmt.value, study, depth, exact), output)

    guard(run)


def _layer_views(
    view,
    net,
    input,
    batch,
    fmt,
    convention,
    explain,
    deconv,
    training,
    by,
    plot,
    compare=None,
    depth=None,
    exact=False,
    output=None,
) -> bool:
    """--training, --by or --plot: the table as layer views (and True); else False. (The
    layer views' module, with the training commands, is loaded for these alone.)"""
    if not (training or by is not None or plot is not None):
        return False
    from cnncalc.cli.training import layer_views

    layer_views(
        view,
        net,
        input,
        batch,
        fmt,
        convention,
        by,
        plot,
        training,
        explain,
        compare,
        deconv,
        depth,
        exact,
        output,
    )
    return True


@commands.command()
def shape(
    net: Net,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
    explain: ExplainOpt = False,
    depth: DepthOpt = None,
    exact: ExactOpt = False,
    output: OutputOpt = None,
) -> None:
    """Per-layer output shape, receptive field and jump."""
    _report(
        "shape",
        net,
        input,
        batch,
        format,
        convention,
        explain,
        depth=depth,
        exact=exact,
        output=output,
    )


@commands.command()
def params(
    net: Net,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
    explain: ExplainOpt = False,
    by: ByOpt = None,
    plot: PlotOpt = None,
    depth: DepthOpt = None,
    exact: ExactOpt = False,
    output: OutputOpt = None,
) -> None:
    """Per-layer trainable parameters, buffers, connections (as LeNet-5 counts them) and memory."""
    if by is not None or plot is not None:
        from cnncalc.cli.training import layer_views

        return layer_views(
            "params",
            net,
            input,
            batch,
            format,
            convention,
            by,
            plot,
            explain=explain,
            depth=depth,
            exact=exact,
            output=output,
        )
    _report(
        "params",
        net,
        input,
        batch,
        format,
        convention,
        explain,
        depth=depth,
        exact=exact,
        output=output,
    )


@commands.command()
def flops(
    net: Annotated[
        Optional[str],
        typer.Argument(
            help="A YAML file or a built-in name; optional with --compare.",
            show_default=False,
            autocompletion=complete_net,
        ),
    ] = None,
    compare: Annotated[
        Optional[list[str]],
        typer.Option(
            "--compare",
            autocompletion=complete_net,
            help="Side by side with ratios: a study's variants (--compare "
            "bottleneck, or a YAML file with variants:), or NET next to "
            "another network (NET --compare OTHER; repeatable). Default: no comparison.",
        ),
    ] = None,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
    explain: ExplainOpt = False,
    deconv_count: DeconvOpt = None,
    training: TrainingOpt = False,
    by: ByOpt = None,
    plot: PlotOpt = None,
    depth: DepthOpt = None,
    exact: ExactOpt = False,
    output: OutputOpt = None,
) -> None:
    """Per-layer multiplications, additions, MACs, FLOPs and share of the total; with
    --compare, networks and study variants side by side with the ratios between them; with
    --convention all, every convention's total and why each differs from macs. --training
    adds the backward pass, --by kind totals per kind, --plot draws the bars."""
    if _layer_views(
        "flops",
        net,
        input,
        batch,
        format,
        convention,
        explain,
        deconv_count,
        training,
        by,
        plot,
        compare,
        depth,
        exact,
        output,
    ):
        return
    if not compare:
        if net is None:
            fail(
                CnnCalcError(
                    "give a network, or a study to compare",
                    hint="cnncalc flops resnet18, or cnncalc flops --compare bottleneck",
                )
            )
        _report(
            "flops",
            net,
            input,
            batch,
            format,
            convention,
            explain,
            deconv_count,
            depth,
            exact,
            output,
        )
        return
    if convention.value == "all" or deconv_count is not None or depth is not None:
        fail(
            CnnCalcError(
                "--compare compares whole networks under one convention, with each "
                "convention's own transposed-conv count, not folded by --depth",
                field="--compare",
                hint="drop --convention all, --deconv-count and --depth, or --compare",
            )
        )
    from cnncalc.analysis.compare import compare_files
    from cnncalc.analysis.pipeline import input_shape
    from cnncalc.render.compare import render_compare

    def run() -> None:
        comparison = compare_files(
            ([net] if net else []) + list(compare),
            input_shape(input),
            batch,
            convention.value,
            "flops" if explain else None,
        )
        print_out(render_compare(comparison, format.value, exact), output)

    guard(run)


@commands.command()
def summary(
    net: Net,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
    explain: ExplainOpt = False,
    deconv_count: DeconvOpt = None,
    depth: DepthOpt = None,
    exact: ExactOpt = False,
    training: TrainingOpt = False,
    by: ByOpt = None,
    plot: PlotOpt = None,
    output: OutputOpt = None,
) -> None:
    """Everything in one table: shapes, parameters, MACs, FLOPs, activations, receptive field.
    --training adds the backward pass, --by kind totals per kind, --plot draws the bars."""
    if _layer_views(
        "summary",
        net,
        input,
        batch,
        format,
        convention,
        explain,
        deconv_count,
        training,
        by,
        plot,
        None,
        depth,
        exact,
        output,
    ):
        return
    _report(
        "summary",
        net,
        input,
        batch,
        format,
        convention,
        explain,
        deconv_count,
        depth,
        exact,
        output,
    )


class PoolMode(str, Enum):
    max = "max"
    avg = "avg"


@commands.command()
def conv(
    input: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            show_default=False,
            help="The input's spatial size: 8x8 (H×W), 32 (L) or 4x8x8 (D×H×W); the channels "
            "are --in-channels (so 3x32x32 is a 3-D input of depth 3: for 3 channels of "
            "32×32 write --in-channels 3 -i 32x32).",
        ),
    ],
    kernel: Annotated[
        str,
        typer.Option(
            "--kernel", "-k", show_default=False, help="Kernel: 3, or one per axis: 3x5 (or 3,5)."
        ),
    ],
    stride: Annotated[
        Optional[str],
        typer.Option(
            "--stride", "-s", help="Stride: 2 or 3,4 (default 1; for --pool, the kernel)."
        ),
    ] = None,
    padding: Annotated[
        Optional[str],
        typer.Option(
            "--padding",
            "-p",
            help="Padding per side, as PyTorch takes it: 1, 0,1 (per axis), 0,1,2,3 (top, bottom, "
            "left, right), same or valid (default 0). The working shows the total.",
        ),
    ] = None,
    dilation: Annotated[
        Optional[str], typer.Option("--dilation", "-d", help="Dilation: 2 or 1,2 (default 1).")
    ] = None,
    output_size: Annotated[
        Optional[str],
        typer.Option(
            "--output-size",
            help="Solve for the padding: the smallest padding per side that gives this "
            "output size with the kernel and stride given (112, or 112x112), or say that no "
            "integer padding does (default: --padding gives the padding).",
            show_default=False,
        ),
    ] = None,
    in_channels: Annotated[
        Optional[int],
        typer.Option("--in-channels", help="Input channels c_i (default 1).", show_default=False),
    ] = None,
    out_channels: Annotated[
        Optional[int], typer.Option("--out-channels", help="Output channels c_o (default 1).")
    ] = None,
    groups: Annotated[
        int, typer.Option("--groups", help="Groups (c_i and c_o must be multiples).")
    ] = 1,
    bias: Annotated[bool, typer.Option("--bias/--no-bias", help="A bias per output map.")] = True,
    pool: Annotated[
        Optional[PoolMode],
        typer.Option(
            "--pool",
            help="A max or avg pooling layer instead of a convolution (default: a convolution).",
        ),
    ] = None,
    ceil_mode: Annotated[
        bool,
        typer.Option(
            "--ceil-mode",
            help="With --pool: round the output size up, ⌈(n − k + p + s)/s⌉, as PyTorch's "
            "ceil_mode=True (the last window may start in the padding, not past it).",
        ),
    ] = False,
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    convention: ConventionOpt = ConventionName.macs,
    output: OutputOpt = None,
) -> None:
    """One convolution (or pooling) layer from flags, no YAML: its output shape, parameters
    and operations with the working.

    cnncalc conv -i 8x8 -k 3x5 -p 0,1 -s 3,4
    """
    from cnncalc.analysis.single import layer_from_flags
    from cnncalc.render.working import render_working

    def run() -> None:
        if output is not None and output.suffix == "" and output.name.replace("x", "").isdigit():
            raise CnnCalcError(
                f"-o is the file to write the output to, and '{output}' reads like a size",
                field="--output",
                hint=f"for the padding that gives that output size: --output-size {output}",
            )
        layer = layer_from_flags(
            batch,
            convention.value,
            output_size,
            in_channels,
            input=input,
            kernel=kernel,
            stride=stride,
            pad=padding,
            dilation=dilation,
            out_channels=out_channels,
            groups=groups,
            bias=bias,
            pool=pool.value if pool else None,
            ceil_mode=ceil_mode,
        )
        print_out(render_working(layer.working, format.value, layer.notes), output)

    guard(run)
