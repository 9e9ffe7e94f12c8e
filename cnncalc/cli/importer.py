"""``cnncalc import``: a network written elsewhere (an ONNX file, a PyTorch module) as
cnncalc YAML."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cnncalc.cli.options import InputOpt, guard, write_file

commands = typer.Typer()


@commands.command("import")
def import_(
    model: Annotated[
        str,
        typer.Argument(
            help="The ONNX file to read, or a PyTorch module to trace: "
            "torch:PACKAGE.MODULE:CALLABLE or torch:FILE.py:NAME.",
            show_default=False,
        ),
    ],
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
    """Read an ONNX file (never run it) or trace a PyTorch module with torch.fx, and write
    the network as cnncalc YAML, with nested add/concat branches where the graph nests.
    ONNX needs the onnx package (pip install 'cnncalc[onnx]'), and every command also takes
    an .onnx file directly. A PyTorch module (pip install 'cnncalc[torch]') is
    torch:torchvision.models:resnet50 or torch:model.py:Net, keyword arguments allowed
    (torch:torchvision.models:googlenet(aux_logits=False)); its layers keep the module's
    names, so the export of the YAML loads its state_dict. Its input is --input, else the
    module's input_size attribute or its file's INPUT_SHAPE."""

    def run() -> None:
        # the analysis pipeline is imported only to read --input (issue 13: under a second)
        shape = None
        if input is not None:
            from cnncalc.analysis.pipeline import input_shape

            shape = input_shape(input)
        if model.startswith("torch:"):  # torch_import.PREFIX; torch is loaded only here
            from cnncalc.model.torch_import import torch_to_yaml

            text = torch_to_yaml(model, shape)
        else:
            from cnncalc.model.onnx_import import onnx_to_yaml

            text = onnx_to_yaml(Path(model), model, shape)
        if output is None:
            sys.stdout.write(text)
        else:
            write_file(output, text, "--output")

    guard(run)
