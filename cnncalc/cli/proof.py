"""Commands that prove the numbers elsewhere: ``verify`` (in the numpy executor) and
``export`` (to PyTorch)."""

from enum import Enum
from typing import Annotated

import typer

from cnncalc import __version__
from cnncalc.cli.options import BatchOpt, InputOpt, Net, OutputOpt, guard, print_out

commands = typer.Typer()


class Target(str, Enum):
    pytorch = "pytorch"


class Impl(str, Enum):
    naive = "naive"
    fast = "fast"


class VerifyFormat(str, Enum):
    table = "table"
    json = "json"


@commands.command()
def verify(
    net: Net,
    impl: Annotated[
        Impl,
        typer.Option(
            "--impl",
            help="fast (im2col + BLAS, counts from the product sizes) or naive "
            "(explicit loops that count each operation as they perform it).",
        ),
    ] = Impl.fast,
    input: InputOpt = None,
    batch: BatchOpt = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random weights and input.")] = 0,
    flip: Annotated[
        bool,
        typer.Option(
            "--flip",
            metavar="",
            help="Run true convolution (kernels flipped) instead of "
            "cross-correlation; the counts are the same.",
        ),
    ] = False,
    max_seconds: Annotated[
        float,
        typer.Option("--max-seconds", help="Refuse a run estimated to take longer than this."),
    ] = 60.0,
    format: Annotated[
        VerifyFormat, typer.Option("--format", "-f", help="table for people, json for scripts.")
    ] = VerifyFormat.table,
    output: OutputOpt = None,
) -> None:
    """Run the network in the numpy reference executor and check every predicted shape and count.

    Per layer: predicted and executed output shape, predicted and performed multiplications,
    additions and the other raw operations, ✓ or ✗. Exit 0 when all agree, 1 when one does
    not (the first disagreement is named), 2 on bad input or a run too big to finish.
    """
    from cnncalc.analysis.pipeline import input_shape, load
    from cnncalc.proof.verify import verify_each
    from cnncalc.render.verify_report import render_verification

    def run() -> None:
        spec = load(net)
        results = verify_each(spec, input_shape(input), batch, impl.value, seed, flip, max_seconds)
        print_out(
            render_verification(results, format.value, spec.name if spec.variants else None),
            output,
        )
        if not all(r.ok for r in results):
            raise typer.Exit(1)

    guard(run)


@commands.command()
def export(
    net: Net,
    to: Annotated[Target, typer.Option("--to", help="What to write: pytorch.")] = Target.pytorch,
    output: OutputOpt = None,
    input: InputOpt = None,
) -> None:
    """Write a self-contained PyTorch module that builds exactly the network, layer names kept.

    Writing it needs no torch; running it does. Its state_dict keys are cnncalc's layer
    names (torchvision's module paths for the zoo networks rebuilt from torchvision).
    """
    from cnncalc.analysis.pipeline import analyze, build, input_shape, load
    from cnncalc.proof.export import to_pytorch

    def run() -> None:
        spec = load(net)
        shape = input_shape(input)
        graph = build(spec, shape)
        params = analyze(spec, shape).total.params
        source = to_pytorch(
            graph,
            params=params,
            source=net,
            version=__version__,
            filename=output.name if output else "model.py",
        )
        print_out(source, output)

    guard(run)
