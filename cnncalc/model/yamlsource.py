"""Reading YAML safely, keeping the line of every mapping key and list item.

Plain PyYAML forgets where a value came from; error messages need the line.
Mappings load as :class:`LocDict` and lists as :class:`LocList`, which carry
the 1-based line of themselves and of each key or item.

Limits (checked before anything is built, so no input can hang or exhaust
memory): a file of at most ``MAX_FILE_BYTES``, and at most ``MAX_NODES``
YAML nodes once aliases are expanded ("billion laughs" is refused here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cnncalc.errors import CnnCalcError

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000


class LocDict(dict):
    """A dict that remembers its line and the line of each key."""

    line: int | None = None
    key_lines: dict

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LocList(list):
    """A list that remembers its line and the line of each item."""

    line: int | None = None
    item_lines: list

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


def line_of(container: Any, key: Any) -> int | None:
    """Line of ``container[key]`` if known, else of the container."""
    if isinstance(container, (LocDict, LocList)):
        return container.line_of(key)
    return None


try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader


class _Loader(_BaseLoader):
    """libyaml's parser where PyYAML has it (several times faster), else the pure-Python one."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocDict:
    loader.flatten_mapping(node)
    result = LocDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise CnnCalcError(
                "a mapping key must be a plain value", line=key_node.start_mark.line + 1
            ) from None
        if key in result:
            raise CnnCalcError(
                f"key '{key}' appears twice in one mapping",
                line=key_node.start_mark.line + 1,
                hint="each option may be given once per layer",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocList:
    result = LocList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes once every alias is expanded (memoised, so linear in the file)."""
    sizes: dict[int, int] = {}
    # iterative post-order so deep nesting cannot overflow the Python stack
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if children_done:
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[id(node)] = min(total, MAX_NODES + 1)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the YAML parser stopped on a tab in the indentation (or at it)."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return False
    row = lines[line]
    indent = row[: len(row) - len(row.lstrip(" \t"))]
    return "\t" in indent or row[column : column + 1] == "\t"


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into LocDict/LocList/scalars, within the limits."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise CnnCalcError(
            f"file is larger than {MAX_FILE_BYTES:,} bytes",
            file=file,
            hint="a network description is a few kilobytes",
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise CnnCalcError(
                "file is empty", file=file, hint="it should hold 'input:' and 'layers:'"
            )
        if _expanded_size(node) > MAX_NODES:
            raise CnnCalcError(
                f"YAML expands to more than {MAX_NODES:,} values once its aliases are expanded",
                file=file,
                line=node.start_mark.line + 1,
                hint="aliases that multiply (a 'billion laughs') are refused; use blocks and repeat",
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "not valid YAML"
        if mark is not None and _tab_at(text, mark.line, mark.column):
            raise CnnCalcError(
                "YAML syntax error: a tab indents this line",
                file=file,
                line=line,
                hint="YAML indents with spaces only; replace the tab by spaces",
            ) from None
        raise CnnCalcError(f"YAML syntax error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise CnnCalcError(f"YAML error: {exc}", file=file) from None
    except RecursionError:
        raise CnnCalcError("YAML is nested too deeply", file=file) from None
    except CnnCalcError as exc:
        raise exc.located(file=file) from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path, shown_as: str | None = None) -> Any:
    """Read and parse a YAML file; missing, unreadable or empty files are errors."""
    shown = shown_as or str(path)
    if not path.exists():
        raise CnnCalcError(
            "no such file",
            file=shown,
            hint="give a YAML file or a built-in name; 'cnncalc zoo' lists them",
        )
    if path.is_dir():
        raise CnnCalcError("is a directory, not a YAML file", file=shown)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CnnCalcError(f"file is larger than {MAX_FILE_BYTES:,} bytes", file=shown)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CnnCalcError("file is not UTF-8 text", file=shown) from None
    except OSError as exc:
        raise CnnCalcError(f"cannot read file: {exc.strerror}", file=shown) from None
    if not text.strip():
        raise CnnCalcError(
            "file is empty", file=shown, hint="it should hold 'input:' and 'layers:'"
        )
    return parse_yaml(text, shown)
