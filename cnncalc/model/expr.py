"""Integer arithmetic in block arguments: ``$dim * 4``, ``$c // 2``, ``($c + 7) // 8 * 8``.

Parsed with :mod:`ast` and evaluated by walking the tree: only integers, the block's
``$names`` (a true/false argument counts 1/0, so ``name: "$expand + 1"`` is a layer's
position in a sequence whose first layer has ``if: $expand``), parentheses, unary
``+``/``-`` and the binary ``+ - * // % /`` are accepted (``/`` only where it divides
exactly), so nothing is ever executed. Every failure is a
:class:`~cnncalc.errors.CnnCalcError` that quotes the expression.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any, Callable, Mapping

from cnncalc.errors import CnnCalcError

ARG = re.compile(r"\$([A-Za-z_]\w*)")
"""A block argument inside an expression."""
_WORD = re.compile(r"[A-Za-z_]")
"""A letter outside the ``$names``: the string is a name like ``stage$k``, not arithmetic."""
MAX_DIGITS = 60
"""Largest intermediate value, in digits: sizes are at most a million, so a longer number
is a runaway expression, refused before it can take memory or time."""

_BINARY: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type, Callable[[int], int]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def is_expression(text: str) -> bool:
    """A string that uses a ``$name`` and is otherwise made of integers, operators and
    parentheses (``$c`` alone is an argument, not an expression; ``stage$k`` is neither)."""
    return (
        bool(ARG.search(text))
        and ARG.fullmatch(text.strip()) is None
        and _WORD.search(ARG.sub("", text)) is None
    )


def evaluate(text: str, args: Mapping[str, Any]) -> int:
    """The integer value of ``text`` with each ``$name`` replaced by ``args[name]``."""
    source = ARG.sub(lambda m: f"__arg_{m.group(1)}", text.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _fail(text, "is not an integer expression", "write e.g. ($c + 7) // 8 * 8") from None
    return _value(tree.body, text, args)


def _fail(text: str, why: str, hint: str | None = None) -> CnnCalcError:
    return CnnCalcError(f"'{text}' {why}", hint=hint)


def _value(node: ast.AST, text: str, args: Mapping[str, Any]) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        if len(str(node.value)) > MAX_DIGITS:
            raise _fail(text, f"has a number longer than {MAX_DIGITS} digits")
        return node.value
    if isinstance(node, ast.Name) and node.id.startswith("__arg_"):
        name = node.id[len("__arg_") :]
        if name not in args:
            known = ", ".join("$" + a for a in args) or "none"
            raise _fail(text, f"uses the unknown argument '${name}'", f"the arguments are {known}")
        value = args[name]
        if type(value) is bool:  # true counts 1, false 0: a position after an optional layer
            return int(value)
        if type(value) is not int:
            raise _fail(text, f"needs '${name}' to be a whole number, got {value!r}")
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand, text, args))
    if isinstance(node, ast.BinOp) and (type(node.op) in _BINARY or isinstance(node.op, ast.Div)):
        left, right = _value(node.left, text, args), _value(node.right, text, args)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod, ast.Div)) and right == 0:
            raise _fail(text, "divides by zero")
        if isinstance(node.op, ast.Div):
            if left % right:
                raise _fail(
                    text,
                    f"is not a whole number: {left} / {right} leaves {left % right}",
                    "use // to round down",
                )
            result = left // right
        else:
            result = _BINARY[type(node.op)](left, right)
        if len(str(abs(result))) > MAX_DIGITS:
            raise _fail(text, f"grows past {MAX_DIGITS} digits")
        return result
    raise _fail(
        text,
        "is not an integer expression",
        "use whole numbers, $arguments, + - * // % / and parentheses",
    )
