"""Commands that prove the numbers elsewhere: ``export`` (to PyTorch)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .cli import InputOpt, Net, _guard, app


class Target(str, Enum):
    pytorch = "pytorch"


@app.command()
def export(net: Net,
           to: Annotated[Target, typer.Option("--to", help="What to write: pytorch.")] = Target.pytorch,
           output: Annotated[Optional[Path], typer.Option(
               "--output", "-o", help="Write to this file instead of standard output.")] = None,
           input: InputOpt = None) -> None:
    """Write a self-contained PyTorch module that builds exactly the network, layer names kept.

    Writing it needs no torch; running it does. Its state_dict keys are cnncalc's layer
    names (torchvision's module paths for the zoo networks rebuilt from torchvision).
    """
    from .api import analyze, build, input_shape, load
    from .export import to_pytorch

    def run() -> None:
        spec = load(net)
        shape = input_shape(input)
        graph = build(spec, shape)
        params = analyze(spec, shape).total.params
        source = to_pytorch(graph, params=params, source=net, version=__version__,
                            filename=output.name if output else "model.py")
        if output is None:
            sys.stdout.write(source)
        else:
            output.write_text(source, encoding="utf-8")
    _guard(run)
