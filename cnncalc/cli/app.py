"""The command line: one typer app, assembled from the command groups. Nothing is counted here."""

import copy
import errno
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_command_name
from typer.models import CommandInfo, TyperInfo

from cnncalc import __version__
from cnncalc.cli.options import error_line, for_people

BROKEN_PIPE_EXIT = 128 + 13
"""What a shell reports for a program stopped by SIGPIPE (``cnncalc … | head``)."""


class Cli(TyperGroup):
    """The command group, failing the way every cnncalc error fails: one ``error:`` line on
    standard error and exit 2, for a mistyped option, a missing argument, an output that
    cannot be written (a missing folder, a full disk) or a terminal that cannot show the
    characters; never a traceback or a box. A closed pipe ends quietly."""

    listing = False
    """True while the group lists its commands (its help, or completing a command's name):
    a lazily built group then answers each command's outline (see :class:`Commands`)."""

    def get_command(self, ctx, cmd_name):
        if self.listing and isinstance(self.commands, Commands):
            return self.commands.outline(cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _flags_as_flags(command.get_params(ctx))
        return command

    def list_commands(self, ctx) -> list[str]:
        """The command names in the order they were registered, building none."""
        return list(self.commands)

    @contextmanager
    def listing_commands(self) -> Iterator[None]:
        self.listing = True
        try:
            yield
        finally:
            self.listing = False

    def format_help(self, ctx, formatter) -> None:
        with self.listing_commands():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx, incomplete):
        with self.listing_commands():
            return super().shell_complete(ctx, incomplete)

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


root = typer.Typer(
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

"""The command line's own options and help, without its commands (see :func:`whole_app`)."""

GROUPS = ("calc", "reference", "proof", "training", "picture", "importer")
"""The modules of :mod:`cnncalc.cli` that define commands, in the order help lists them."""

COMMAND_GROUPS = {
    **dict.fromkeys(("shape", "params", "flops", "summary", "conv"), "calc"),
    **dict.fromkeys(("answers", "zoo", "kinds", "schema"), "reference"),
    **dict.fromkeys(("verify", "export"), "proof"),
    **dict.fromkeys(("memory", "sweep", "minsize"), "training"),
    "graph": "picture",
    "import": "importer",
}
"""Each command's module: the command being run imports its own alone (the other groups'
options and choices cost an analysis some 7 M instructions, issue 11: start-up)."""


def group_commands(module: str) -> typer.Typer:
    """The commands of one group module of :mod:`cnncalc.cli`, imported on first use."""
    return __import__(f"cnncalc.cli.{module}", fromlist=["commands"]).commands


_whole: list[typer.Typer] = []


def whole_app() -> typer.Typer:
    """``root`` with every group's commands: the application, ``app``, made once."""
    if not _whole:
        whole = copy.copy(root)
        whole.registered_groups = [TyperInfo(group_commands(module)) for module in GROUPS]
        _whole.append(whole)
    return _whole[0]


def __getattr__(name: str):
    """``app`` is the whole application, built when first asked for (``cnncalc shape``
    builds only its own command, :func:`command_alone`)."""
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@root.callback()
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
    only its own, from its own module (issue 11: start-up). Its usage, help and errors are
    the same."""
    module = COMMAND_GROUPS.get(name)
    if module is None:
        return None
    for info in group_commands(module).registered_commands:
        if info.callback and (info.name or get_command_name(info.callback.__name__)) == name:
            only = typer.Typer()
            only.registered_commands = [info]
            alone = copy.copy(root)
            alone.registered_groups = [TyperInfo(only)]
            return alone
    return None


class Commands(Mapping):
    """The commands of a group that lists them without building them (click's "lazy loading
    of subcommands"): typer builds a command by reading every parameter of its function,
    some 2 ms a command, while the list in ``cnncalc --help`` needs only each command's
    name and first sentence (issue 11: --help in 0.06 s). A command is built by typer,
    as the whole app would build it, the first time it is looked up."""

    def __init__(self, infos: dict[str, CommandInfo], whole: typer.Typer) -> None:
        self.infos = infos
        self.whole = whole
        self.built: dict[str, typer.core.click.Command] = {}

    def __getitem__(self, name: str):
        if name not in self.built:
            self.built[name] = get_command_from_info(
                self.infos[name],
                pretty_exceptions_short=self.whole.pretty_exceptions_short,
                rich_markup_mode=self.whole.rich_markup_mode,
            )
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def outline(self, name: str) -> TyperCommand | None:
        """What a list of commands shows of ``name`` (its name, help, short help, panel,
        whether hidden or deprecated), as typer would build it but without parameters."""
        info = self.infos.get(name)
        if info is None:
            return None
        return TyperCommand(
            name=name,
            help=inspect.getdoc(info.callback)
            if info.help is None
            else inspect.cleandoc(info.help),
            short_help=info.short_help,
            hidden=info.hidden,
            deprecated=info.deprecated,
            rich_markup_mode=self.whole.rich_markup_mode,
            rich_help_panel=info.rich_help_panel,
        )


def registered_commands() -> dict[str, CommandInfo]:
    """Every command of ``app`` by name, in the order typer lists them."""
    return {
        info.name or get_command_name(info.callback.__name__): info
        for group in whole_app().registered_groups
        for info in group.typer_instance.registered_commands
        if info.callback
    }


def listing_app() -> Cli:
    """The click group of ``app`` (its options, help and completion, built by typer) whose
    commands are built only when one is looked up: for ``cnncalc --help``, a bare
    ``cnncalc``, shell completion and a mistyped command."""
    whole = whole_app()
    bare = copy.copy(whole)
    bare.registered_groups = []
    group = typer.main.get_command(bare)
    assert isinstance(group, Cli)
    group.commands = Commands(registered_commands(), whole)
    return group


def main() -> None:
    alone = command_alone(sys.argv[1]) if len(sys.argv) > 1 else None
    if alone is not None:
        alone()
    else:
        listing_app()()
