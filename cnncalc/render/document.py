"""A document of one or more results (a network, or each variant of a study) in one format."""

from __future__ import annotations

import json
from typing import Callable

from rich.console import Group

from cnncalc.analysis.explain import Working
from cnncalc.analysis.stats import Analysis
from cnncalc.render.analysis import (
    csv_text,
    json_record,
    json_text,
    markdown_table,
    rich_table,
)
from cnncalc.render.working import render_working, working_record


def render(analysis: Analysis, view: str, fmt: str, depth: int | None = None, exact: bool = False):
    """A rich renderable for ``table``; text for the other formats. ``depth`` folds the
    table's layers into blocks (JSON keeps every layer and adds the blocks); ``exact``
    keeps a table's integers whole whatever the width."""
    if fmt == "table":
        return rich_table(analysis, view, depth, exact)
    if fmt == "json":
        return json_text(analysis, depth)
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
        if isinstance(item, Working):
            return render_working(item, fmt)
        return render(item, view, fmt, depth, exact)

    def record(item) -> dict:
        return working_record(item) if isinstance(item, Working) else json_record(item, depth)

    return join_documents(items, fmt, study, one, record)


def _network(item) -> str:
    return item.analysis.network if isinstance(item, Working) else item.network


def join_documents(
    items: list, fmt: str, study: str | None, render_one: Callable, record: Callable
):
    """One rendering per item: a lone network as itself, a study's variants one after
    another, JSON as one document, CSV with a variant column."""
    if len(items) == 1 and study is None:
        return render_one(items[0], fmt)
    if fmt == "json":
        return (
            json.dumps(
                {"study": study, "variants": [record(i) for i in items]},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    parts = [render_one(i, fmt) for i in items]
    if fmt == "table":
        return "\n".join(parts) if all(isinstance(p, str) for p in parts) else Group(*parts)
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
