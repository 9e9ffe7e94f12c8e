"""The one exception a user ever sees, and how it is written out.

Every check in cnncalc raises :class:`CnnCalcError` with what was wrong and,
where known, the file, the YAML line and the field; the CLI prints it as one
line and exits with code 2.
"""

from __future__ import annotations


class CnnCalcError(Exception):
    """Bad input: a message for the person who made the mistake."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.hint = hint

    def located(
        self, *, file: str | None = None, line: int | None = None, field: str | None = None
    ) -> "CnnCalcError":
        """Fill in whatever location is still unknown (inner context wins)."""
        if self.file is None:
            self.file = file
        if self.line is None:
            self.line = line
        if self.field is None:
            self.field = field
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{field}{self.message}{hint}"
