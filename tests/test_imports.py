"""A command imports only what it uses (issue 11: start-up). Each case runs the real command
in a fresh interpreter under ``python -X importtime`` and reads the modules it loaded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer


def imported_by(*args: str, env: dict | None = None) -> set[str]:
    """The modules ``python -m cnncalc ARGS`` loads, its output piped (not a terminal)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnncalc", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


NEVER_AT_RUN_TIME = (
    "torch",  # a test extra, never a dependency
    "onnx",  # cnncalc import and .onnx files only
    "numpy",  # the executor's
    "matplotlib",  # --plot's
)
NOT_FOR_A_PLAIN_ANALYSIS = (
    *NEVER_AT_RUN_TIME,
    "importlib.metadata",  # pydantic's plugin lookup, which the command line disables
    "cnncalc.proof",  # verify and export
    "cnncalc.answers",  # the worked answers
    "cnncalc.analysis.explain",  # --explain
    "cnncalc.analysis.memory",  # cnncalc memory
    "cnncalc.analysis.training",  # --training
    "cnncalc.analysis.sweep",  # cnncalc sweep / minsize
    "cnncalc.analysis.compare",  # --compare
    "cnncalc.model.onnx_import",  # .onnx files
    "cnncalc.model.schema",  # cnncalc schema
    "cnncalc.kinds.describe",  # cnncalc kinds
    "cnncalc.render.working",  # --explain's rendering
    "cnncalc.render.conventions",  # --convention all
    "cnncalc.render.views",  # memory, sweep, --by
    "typer.rich_utils",  # typer's rich help and tracebacks
    "rich.markdown",  # help in rich's Markdown
)


NOT_FOR_A_CALCULATION = (
    *NOT_FOR_A_PLAIN_ANALYSIS,
    "cnncalc.cli.reference",  # the other groups' commands: answers, zoo, kinds, schema
    "cnncalc.cli.proof",  # verify, export
    "cnncalc.cli.picture",  # graph
    "cnncalc.cli.importer",  # import
    "cnncalc.cli.training",  # memory, sweep, minsize, and the views of --training, --by, --plot
    "cnncalc.analysis.fold",  # --depth
)
"""What shape, params, flops and summary leave out (--help lists every group's commands)."""


def unwanted(modules: set[str], packages) -> list[str]:
    return [p for p in packages if loaded(modules, p)]


def test_shape_loads_the_calculator_and_nothing_else():
    modules = imported_by("shape", "lenet5")
    assert "cnncalc.kinds.registry" in modules and "cnncalc.render.analysis" in modules
    assert unwanted(modules, NOT_FOR_A_CALCULATION) == []


def test_no_layer_kind_is_called_block():
    """A report tells a folded block of several layers (--depth) from a layer by its kind
    alone, without loading the folding: no kind may take the blocks' name."""
    from cnncalc.analysis.names import BLOCK
    from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS

    assert BLOCK not in {*LAYER_KINDS, *JOIN_KINDS, *(c.kind for c in defined_kinds().values())}


def test_json_output_never_loads_rich():
    modules = imported_by("summary", "resnet50", "--format", "json")
    assert "cnncalc.render.jsonout" in modules
    assert not loaded(modules, "rich")
    assert "cnncalc.render.tables" not in modules  # the table model: JSON draws no table
    assert unwanted(modules, NOT_FOR_A_CALCULATION) == []


@pytest.mark.parametrize("package", ["typer", "pydantic", "rich", "yaml", "cnncalc.kinds"])
def test_version_loads_no_library(package):
    assert not loaded(imported_by("--version"), package)


def test_help_loads_typer_and_no_calculator():
    """The command list and its options need typer alone: no YAML reader, no validation, no
    layer kind, no counting rule; piped, the help is click's plain text, without rich."""
    modules = imported_by("--help")
    assert "typer" in modules and "cnncalc.cli.calc" in modules
    heavy = ("pydantic", "yaml", "rich", "cnncalc.kinds", "cnncalc.model", "cnncalc.analysis")
    more = ("cnncalc.conventions.presets", "cnncalc.render")
    assert unwanted(modules, (*NOT_FOR_A_PLAIN_ANALYSIS, *heavy, *more)) == []


def test_a_command_help_loads_no_calculator():
    """(typer itself checks option values with pydantic, so pydantic may load here.)"""
    modules = imported_by("summary", "--help")
    assert unwanted(modules, ("yaml", "rich", "cnncalc.kinds", "cnncalc.analysis")) == []


def test_the_command_line_offers_every_convention_in_order():
    """--convention's choices come from a list of names that imports no rule; it must be
    the conventions' own list, in their order."""
    from cnncalc.cli.options import ConventionName
    from cnncalc.conventions.names import CONVENTION_NAMES
    from cnncalc.conventions.presets import CONVENTIONS

    assert CONVENTION_NAMES == tuple(CONVENTIONS)
    assert [c.value for c in ConventionName] == [*CONVENTIONS, "all"]


def test_the_stand_in_plugin_loader_answers_as_pydantics_own(monkeypatch):
    """The command line skips pydantic's plugin loader (and importlib.metadata) when every
    plugin is disabled; pydantic's own loader gives the same answer, no plugins."""
    from pydantic.plugin import _loader

    from cnncalc import cli

    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "1")
    monkeypatch.delitem(sys.modules, cli.PLUGIN_LOADER)
    cli.stand_in_plugin_loader()
    stand_in = sys.modules[cli.PLUGIN_LOADER]
    assert stand_in is not _loader
    assert tuple(stand_in.get_plugins()) == tuple(_loader.get_plugins()) == ()


def test_plugins_disabled_by_name_keep_pydantics_loader(monkeypatch):
    from pydantic.plugin import _loader

    from cnncalc import cli

    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "logfire")
    cli.stand_in_plugin_loader()
    assert sys.modules[cli.PLUGIN_LOADER] is _loader


def test_a_command_run_alone_is_the_command_of_the_whole_app():
    """The command line builds only the command it runs (typer would build all 16): that
    one is the same command, with the same options, defaults and help."""
    import typer

    from cnncalc.cli import app as application
    from cnncalc.cli.app import command_alone

    whole = typer.main.get_command(application)
    assert command_alone("no-such-command") is None
    for name, command in whole.commands.items():
        alone = typer.main.get_command(command_alone(name))
        assert list(alone.commands) == [name]
        one = alone.commands[name]
        assert one.help == command.help and one.callback.__name__ == command.callback.__name__
        assert [described(p) for p in one.params] == [described(p) for p in command.params]
        assert [described(p) for p in alone.params] == [described(p) for p in whole.params]


def test_each_command_is_looked_up_in_the_module_that_defines_it():
    """A command run alone imports its own module of cnncalc.cli and no other group's:
    the table that says which module that is must name every command where it is
    defined, in the order help lists them."""
    from cnncalc.cli.app import COMMAND_GROUPS, GROUPS, group_commands

    defined = {
        info.name or typer.main.get_command_name(info.callback.__name__): module
        for module in GROUPS
        for info in group_commands(module).registered_commands
    }
    assert COMMAND_GROUPS == defined
    assert list(COMMAND_GROUPS) == list(defined)


def described(param) -> tuple:
    """What a user sees of a command-line parameter."""
    names = (param.name, tuple(param.opts), tuple(param.secondary_opts), repr(param.default))
    return (*names, param.required, param.nargs, param.multiple, getattr(param, "help", None))


# --------------------------------------------------------------- the lazily built help


def listed_commands(help_text: str) -> dict[str, str]:
    """The ``Commands:`` section of click's plain help: name → its one-line help."""
    section = help_text.split("\nCommands:\n", 1)[1]
    rows = [line.split(maxsplit=1) for line in section.splitlines() if line.startswith("  ")]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def first_sentence(help_text: str) -> str:
    """A command's own help (its ``--help`` page, after the usage line) up to the end of
    its first sentence, or its whole first paragraph: what a list of commands shows."""
    body = help_text.split("\n\n", 1)[1]
    words = body.split("\n\n", 1)[0].split()
    for i, word in enumerate(words):
        if word.endswith("."):
            return " ".join(words[: i + 1])
    return " ".join(words)


def test_help_lists_every_command_as_its_own_help_begins():
    """``cnncalc --help`` builds no command (issue 11: --help in 0.06 s): each line of its
    list must still be the command's name and the first sentence its own ``--help`` gives,
    in the order the whole app lists them."""
    import typer
    from typer.testing import CliRunner

    from cnncalc.cli import app as application

    wide = {"COLUMNS": "1000"}  # no line of the list cut short with "..."
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **wide},
    )
    listed = listed_commands(run.stdout)
    assert list(listed) == list(typer.main.get_command(application).commands)
    for name, short_help in listed.items():
        own = CliRunner().invoke(application, [name, "--help"], env=wide, prog_name="cnncalc")
        assert own.exit_code == 0, own.output
        assert short_help == first_sentence(own.output), name


@pytest.mark.parametrize("markup", [None, "markdown"])
def test_the_listing_group_shows_the_help_of_the_whole_app(markup, monkeypatch):
    """Help, plain (piped) or in rich's panels (a terminal), is the same page whether typer
    built every command or the group outlined them, and outlining builds none."""
    from typer.testing import CliRunner

    from cnncalc.cli import app as application
    from cnncalc.cli.app import listing_app

    monkeypatch.setattr(application, "rich_markup_mode", markup)
    env = {"COLUMNS": "100", "TTY_COMPATIBLE": "1" if markup else "0"}
    runner = CliRunner()
    whole = runner.invoke(application, ["--help"], env=env, prog_name="cnncalc")
    group = listing_app()
    with runner.isolation(env=env) as outstreams, pytest.raises(SystemExit) as end:
        try:
            group.main(["--help"], prog_name="cnncalc")
        finally:
            outlined = outstreams[0].getvalue().decode()
    assert whole.exit_code == end.value.code == 0
    assert "Commands" in whole.output and outlined == whole.output
    assert ("╭" in outlined) == (markup is not None)  # rich's panels for people
    assert group.commands.built == {}


CONSOLE_SCRIPT = "import sys; sys.argv[0] = 'cnncalc'; from cnncalc.cli import main; main()"
"""``cnncalc``'s entry point under its own name (completion reads ``_CNNCALC_COMPLETE``)."""


def complete(words: str) -> str:
    """zsh's completion of the last of ``words``, through the real command line."""
    run = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "_CNNCALC_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": words},
    )
    return run.stdout


def test_completion_offers_command_names_with_their_help_building_none():
    assert '"shape":"Per-layer output shape, receptive field..."' in complete("cnncalc sh")
    assert '"summary"' in complete("cnncalc su") and '"shape"' not in complete("cnncalc su")


def test_completion_builds_the_command_it_completes_for():
    assert complete("cnncalc shape resnet1").split('"')[1::2] == [
        "resnet101",
        "resnet152",
        "resnet18",
    ]


BUILT_KINDS_AFTER = (
    "import json, sys; sys.argv[0] = 'cnncalc'\n"
    "from cnncalc.cli import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "from cnncalc.kinds.registry import LAYER_KINDS\n"
    "built = [k for k, c in LAYER_KINDS.items() if c.__pydantic_complete__]\n"
    "print(json.dumps(built), file=sys.stderr)\n"
)


def test_a_command_builds_the_validators_of_the_kinds_its_file_uses_alone():
    """A kind's pydantic validator is built when a layer of that kind is first validated
    (``defer_build``), not when the 47 kinds are imported (issue 11: start-up): LeNet-5,
    as examples/lenet5.yaml writes it, has convs, subsamplings, an fc and the RBF layer."""
    import json

    import yaml

    lenet5 = Path(__file__).resolve().parents[1] / "examples" / "lenet5.yaml"
    written = {next(iter(layer)) for layer in yaml.safe_load(lenet5.read_text())["layers"]}
    assert written == {"conv", "subsample", "fc", "rbf"}
    run = subprocess.run(
        [sys.executable, "-c", BUILT_KINDS_AFTER, "shape", "lenet5"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(json.loads(run.stderr.splitlines()[-1])) == written


KIND_MODULES = ("conv", "pool", "dense", "pointwise", "rearrange", "joins")
"""The modules of cnncalc/kinds that define layer kinds."""


def defined_kinds() -> dict[str, type]:
    """Every layer kind the kind modules define, by the key its class gives itself."""
    import importlib

    from cnncalc.kinds.base import Kind

    found = {}
    for name in KIND_MODULES:
        module = importlib.import_module(f"cnncalc.kinds.{name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Kind) and value.kind:
                if value.__module__ == module.__name__:
                    found[value.kind] = value
    return found


def test_the_registry_finds_each_kind_where_it_is_defined():
    """The registry knows each kind's key without importing its module (issue 11:
    start-up); each key must name the class whose own ``kind`` it is, and no kind may be
    left out. (``swish`` is SiLU's other name.)"""
    from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS

    registered = {**LAYER_KINDS, **JOIN_KINDS}
    assert registered.pop("swish").kind == "silu"
    assert {key: cls.kind for key, cls in registered.items()} == {k: k for k in registered}
    assert registered == defined_kinds()


def test_lenet5_loads_none_of_the_kinds_it_does_not_use():
    """LeNet-5 (convs, subsamplings, an fc, RBF units) makes none of the 24 pointwise kinds'
    models nor the rearranging ones."""
    modules = imported_by("shape", "lenet5")
    assert {"cnncalc.kinds.conv", "cnncalc.kinds.pool", "cnncalc.kinds.dense"} <= modules
    assert unwanted(modules, ("cnncalc.kinds.pointwise", "cnncalc.kinds.rearrange")) == []


def test_a_refused_call_names_every_kind_that_takes_it(tmp_path):
    """The kinds that take ``call: function`` are all named, the ones not loaded yet too
    (a file of one conv loads no pointwise kind): those whose PyTorch function the kind
    records."""
    able = sorted(k for k, cls in defined_kinds().items() if cls.function)
    assert {"relu", "select", "flatten"} <= set(able)
    path = tmp_path / "net.yaml"
    path.write_text("input: [3, 8, 8]\nlayers:\n  - {conv: 8, kernel: 3, call: function}\n")
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", "flops", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert f"(call: function is for {', '.join(able)})" in run.stderr


@pytest.mark.parametrize("terminal", ["0", "1"])
def test_a_network_named_with_colons_is_shown_as_written(tmp_path, terminal):
    """``:fire:`` in a name is text, not rich's emoji code (and rich's table of emoji is
    not loaded to look it up)."""
    path = tmp_path / "net.yaml"
    path.write_text('name: "net :fire: one"\ninput: [3, 8, 8]\nlayers:\n  - {conv: 8, kernel: 3}\n')
    modules = imported_by("shape", str(path), env={"TTY_COMPATIBLE": terminal})
    assert "rich.table" in modules and "rich._emoji_codes" not in modules
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", "shape", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TTY_COMPATIBLE": terminal},
    )
    assert "net :fire: one: input 3×8×8" in run.stdout and "🔥" not in run.stdout
