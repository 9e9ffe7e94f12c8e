"""A document of one or more results (a network, or each variant of a study) in one format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Callable

from cnncalc.analysis.stats import Analysis
from cnncalc.render.analysis import (
    csv_text,
    json_record,
    json_stream,
    markdown_table,
    rich_table,
)
from cnncalc.render.jsonout import json_document

if TYPE_CHECKING:
    from cnncalc.analysis.explain import Working


def _is_working(item) -> bool:
    """A :class:`Working` (--explain) rather than an :class:`Analysis`, told apart without
    importing the explain modules, which a plain analysis never needs (issue 11: start-up)."""
    return not isinstance(item, Analysis)


def render(analysis: Analysis, view: str, fmt: str, depth: int | None = None, exact: bool = False):
    """A rich renderable for ``table`` (a long one as lines of plain text); text for the
    other formats, JSON as an iterator of pieces of text (:func:`json_stream`). ``depth``
    folds the table's layers into blocks (JSON keeps every layer and adds the blocks);
    ``exact`` keeps a table's integers whole whatever the width."""
    if fmt == "table":
        return rich_table(analysis, view, depth, exact)
    if fmt == "json":
        return json_stream(analysis, depth)
    if fmt == "csv":
        return csv_text(analysis)
    return markdown_table(analysis, view, depth)


def render_each(
    items: list[Analysis | Working],
    view: str,
    fmt: str,
    study: str | None = None,
    depth: int | None = None,
    exact: bool = False,
):
    """Several analyses or workings (a study's variants) one after another; JSON keeps
    them in one document."""

    def one(item, fmt: str):
        if _is_working(item):
            from cnncalc.render.working import render_working

            return render_working(item, fmt)
        return render(item, view, fmt, depth, exact)

    def record(item) -> dict:
        if _is_working(item):
            from cnncalc.render.working import working_record

            return working_record(item)
        return json_record(item, depth)

    return join_documents(items, fmt, study, one, record)


def _network(item) -> str:
    return item.analysis.network if _is_working(item) else item.network


def join_documents(
    items: list, fmt: str, study: str | None, render_one: Callable, record: Callable
):
    """One rendering per item: a lone network as itself, a study's variants one after
    another, JSON as one document, CSV with a variant column."""
    if len(items) == 1 and study is None:
        return render_one(items[0], fmt)
    if fmt == "json":
        return json_document({"study": study, "variants": [record(i) for i in items]})
    # a long variant's plain table comes as lines; among others it is joined
    parts = [render_one(i, fmt) for i in items]
    parts = ["".join(p) if isinstance(p, Iterator) else p for p in parts]
    if fmt == "table":
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)
        from rich.console import Group

        return Group(*parts)
    if fmt == "csv":
        head = parts[0].split("\n", 1)[0]
        rows = [
            f"{_network(i)},{line}"
            for i, part in zip(items, parts)
            for line in part.split("\n")[1:]
            if line
        ]
        return "variant," + head + "\n" + "\n".join(rows) + "\n"
    return "\n".join(parts)
