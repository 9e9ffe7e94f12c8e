"""A table's column: its key in the rows' records, its title and how it shows its values.

Apart from :mod:`cnncalc.render.tables` so that a document that draws no table (JSON, CSV)
can name its columns without loading the table model (issue 11: start-up).
"""

from __future__ import annotations

from typing import NamedTuple

SHOWS = ("text", "int", "bytes", "share", "shape", "fixed", "figure")
"""How a column shows its values: text (wraps), int (exact, or compact units to fit),
bytes (KiB/MiB, or exact bytes with --exact), share (a bar and a percentage), shape
(3×224×224), fixed (text that never wraps: a receptive field) and figure (a number
already written out, right-aligned, never wrapped: a ratio, a percentage)."""


class Col(NamedTuple):
    """One column. (A named tuple, not a frozen dataclass: as equal and read-only, without
    compiling five methods at import.)"""

    key: str
    title: str
    show: str = "int"
    """One of :data:`SHOWS`."""
    short: str | None = None
    """The title hyphenated where it may wrap (``Activ- ations``), for a narrow table."""

    @property
    def numeric(self) -> bool:
        """Exact counts that add up (a by-kind table sums these)."""
        return self.show in ("int", "bytes")

    @property
    def right(self) -> bool:
        return self.show in ("int", "bytes", "figure")

    @property
    def wraps(self) -> bool:
        return self.show == "text"
