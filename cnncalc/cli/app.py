"""The command line: one typer app, assembled from the command groups. Nothing is counted here."""

import copy
import errno
import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup
from typer.main import get_command_name
from typer.models import TyperInfo

from cnncalc import __version__
from cnncalc.cli import calc, importer, picture, proof, reference, training
from cnncalc.cli.options import error_line, for_people

BROKEN_PIPE_EXIT = 128 + 13
"""What a shell reports for a program stopped by SIGPIPE (``cnncalc … | head``)."""


class Cli(TyperGroup):
    """The command group, failing the way every cnncalc error fails: one ``error:`` line on
    standard error and exit 2, for a mistyped option, a missing argument, an output that
    cannot be written (a missing folder, a full disk) or a terminal that cannot show the
    characters; never a traceback or a box. A closed pipe ends quietly."""

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _flags_as_flags(command.get_params(ctx))
        return command

    def get_params(self, ctx):
        return _flags_as_flags(super().get_params(ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
            sys.stdout.flush()
        except typer.TyperException as exc:  # click's errors: typer vendors click
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare 'cnncalc': its help
                text = exc.format_message()  # plain help; rich's panels were printed already
                try:
                    if text:
                        print(text, flush=True)
                except OSError:  # | head: a closed pipe ends quietly
                    _quiet_stdout()
                sys.exit(2)
            usage = exc.ctx.command_path if getattr(exc, "ctx", None) else "cnncalc"
            error_line(_usage_message(exc.format_message()), f"see '{usage} --help'")
            sys.exit(2)
        except typer.Abort:
            sys.exit(130)
        except UnicodeEncodeError as exc:
            _quiet_stdout()
            error_line(
                f"the output's encoding ({exc.encoding}) cannot write {exc.object[exc.start]!r}",
                "set PYTHONIOENCODING=utf-8, or LC_ALL=C.UTF-8",
            )
            sys.exit(2)
        except OSError as exc:
            _quiet_stdout()
            if exc.errno == errno.EPIPE:
                sys.exit(BROKEN_PIPE_EXIT)
            target = f"'{exc.filename}'" if exc.filename else "the output"
            error_line(f"cannot write {target}: {exc.strerror or exc}")
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


def _flags_as_flags(params: list) -> list:
    """A flag takes no value, so its help shows none (typer would show ``<bool>``), the
    help option's included."""
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    return params


def _usage_message(text: str) -> str:
    """click's sentence said as cnncalc says things: lower case, no full stop, no
    pydantic prefix."""
    text = text.replace("Value error, ", "").strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's last flush at exit cannot fail
    again on what is still buffered (a closed pipe, a full disk)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test's capture)
        pass


app = typer.Typer(
    cls=Cli,
    # help for people in rich's panels; piped, click's plain text, which spares loading
    # rich and its Markdown parser (issue 11: --help in 0.06 s)
    rich_markup_mode="markdown" if for_people() else None,
    name="cnncalc",
    no_args_is_help=True,
    # plain help as wide as the terminal (COLUMNS when piped), as rich's is; click's own
    # limit is 80 columns
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 1000},
    help="Shapes, parameters, operations and receptive fields of convolutional networks, "
    "from a YAML description or a built-in name, with every convention stated.",
)


for group in (calc, reference, proof, training, picture, importer):
    app.add_typer(group.commands)


def _version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """cnncalc: a calculator for convolutional networks."""


def command_alone(name: str) -> typer.Typer | None:
    """``app`` with the command ``name`` alone (None where there is no such command): typer
    builds every command's options before it parses any, and the command being run needs
    only its own (issue 11: start-up). Its usage, help and errors are the same."""
    for group in app.registered_groups:
        for info in group.typer_instance.registered_commands:
            if info.callback and (info.name or get_command_name(info.callback.__name__)) == name:
                only = typer.Typer()
                only.registered_commands = [info]
                alone = copy.copy(app)
                alone.registered_groups = [TyperInfo(only)]
                return alone
    return None


def main() -> None:
    alone = command_alone(sys.argv[1]) if len(sys.argv) > 1 else None
    (alone or app)()
