"""Built-in networks and studies: the YAML files of ``examples/``.

The folder is installed as the package ``cnncalc.examples`` (see
pyproject.toml), so the names work after ``pip install``; in a source
checkout the same files are read in place.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from cnncalc.errors import CnnCalcError
from cnncalc.model.spec import closest


def examples_dir() -> Path:
    """The installed ``cnncalc.examples``; in a checkout that is not installed, ``examples/``.
    (The package's folder as the import system finds it: ``importlib.resources`` would find
    the same folder but costs a command 5 ms of imports, issue 11: start-up.)"""
    spec = find_spec("cnncalc.examples")
    if spec is None or not spec.submodule_search_locations:
        return Path(__file__).resolve().parent.parent / "examples"
    return Path(spec.submodule_search_locations[0])


def zoo_names() -> list[str]:
    """Every built-in name, sorted."""
    return sorted(p.stem for p in examples_dir().glob("*.yaml"))


def normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def zoo_path(name: str) -> Path:
    """The file behind a built-in name (``resnet50``, ``vgg16_bn`` = ``vgg16-bn``)."""
    wanted = normalise(name)
    for candidate in zoo_names():
        if normalise(candidate) == wanted or normalise(candidate).replace(
            "-", ""
        ) == wanted.replace("-", ""):
            return examples_dir() / f"{candidate}.yaml"
    close = closest(wanted, zoo_names())
    raise CnnCalcError(
        f"'{name}' is neither a file nor a built-in network",
        file=name,
        hint=f"did you mean '{close}'? 'cnncalc zoo' lists them"
        if close
        else "'cnncalc zoo' lists the built-in networks",
    )
