"""JSON documents written fast and readable: one record a line.

A document's keys go one to a line and a list of records one record to a line, so a
network of 100,000 layers is 100,000 lines that grep and diff read well; each line is
written by the standard library's C encoder (``json.dumps`` without ``indent``), which is
some ten times faster than its pure-Python indenting one and keeps no list of fragments.
The document is the same as ``json.dumps(value, indent=2)`` gives (``json.loads`` of both
is equal): only the line breaks differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

FLAT_DEPTH = 2
"""A value nested at most this deep is one line: a layer's record, with its ``ops`` and
its ``out_shape``, is depth 2."""

INDENT = "  "


def depth(value) -> int:
    """How deeply containers nest in ``value`` (a scalar is 0, ``[1, 2]`` is 1); a list is
    judged by its first item, as the lists of a document hold records of one shape; an
    iterator, which cannot be looked into without using it up, is always opened."""
    if isinstance(value, Iterator):
        return FLAT_DEPTH + 1
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return 1 + (depth(value[0]) if value else 0)
    return 0


def _unencodable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_C_ENCODER = (
    json.encoder.c_make_encoder(
        None, _unencodable, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    if json.encoder.c_make_encoder is not None
    else None
)
"""The standard library's C encoder, made once: ``json.dumps(v, ensure_ascii=False)``
makes an encoder object per call, which costs as much as a layer's record takes to write.
(No check for cycles: a document is a tree.)"""


def _line(value) -> str:
    if _C_ENCODER is None:  # pragma: no cover - CPython always has the C encoder
        return json.dumps(value, ensure_ascii=False)
    return "".join(_C_ENCODER(value, 0))


def _lines(value, level: int) -> Iterator[str]:
    """The text of ``value`` at ``level``, in pieces; a container deeper than
    :data:`FLAT_DEPTH` is opened one member a line, a generator as a list."""
    inner = INDENT * (level + 1)
    if isinstance(value, dict) and depth(value) > FLAT_DEPTH:
        yield "{"
        for i, (key, member) in enumerate(value.items()):
            yield ("\n" if i == 0 else ",\n") + inner + _line(key) + ": "
            yield from _lines(member, level + 1)
        yield "\n" + INDENT * level + "}"
        return
    if isinstance(value, (list, tuple, Iterator)) and depth(value) > FLAT_DEPTH:
        yield from _items(value, level)
        return
    yield _line(value)


def _items(items: Iterable, level: int) -> Iterator[str]:
    inner = INDENT * (level + 1)
    first, flat = True, None
    for item in items:
        if flat is None:  # a list holds records of one shape: judge its first
            flat = depth(item) <= FLAT_DEPTH
        if flat:
            yield ("[\n" if first else ",\n") + inner + _line(item)
        else:
            yield ("[\n" if first else ",\n") + inner
            yield from _lines(item, level + 1)
        first = False
    yield "[]" if first else "\n" + INDENT * level + "]"


def json_chunks(value) -> Iterator[str]:
    """``value`` as a JSON document ending in a newline, in pieces to write one after
    another. A list may be given as an iterator: with the pieces written as they come, a
    long network's records and its text are never all held at once."""
    yield from _lines(value, 0)
    yield "\n"


def json_document(value) -> str:
    """``value`` as a JSON document ending in a newline (:func:`json_chunks`, joined)."""
    return "".join(json_chunks(value))
