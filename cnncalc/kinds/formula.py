"""A line of working: ``what = symbolic = substituted = result``, and its vocabulary.

The layer kinds (:mod:`cnncalc.kinds`) and the conventions
(:mod:`cnncalc.conventions`) both write these lines; this module is kept free of
heavy imports so the command line can load the conventions' names quickly.
"""

from __future__ import annotations

from typing import NamedTuple

LABELS = {
    "mults": "mults",
    "adds": "adds",
    "bias_adds": "bias adds",
    "compares": "compares",
    "divs": "divs",
    "exps": "exps",
    "eltwise_adds": "residual adds",
    "macs": "MACs",
}
"""How a line of working names each raw operation count of :class:`~cnncalc.kinds.ops.Ops`."""

RECEPTIVE_LINES = frozenset(
    {"RF", "jump"} | {f"{what}_{axis}" for what in ("RF", "jump") for axis in "ldhw"}
)
"""The receptive field r and jump j, per axis when the axes differ (RF_h, jump_w)."""
SHAPE_LINES = frozenset({"L", "D", "H", "W", "C", "shape", "features"}) | RECEPTIVE_LINES
PARAMS_LINES = frozenset({"params", "buffers", "connections"})


class Formula(NamedTuple):
    """One line of working: ``what = symbolic = substituted = result``. (A named tuple: a
    frozen dataclass compiles five methods at import, issue 11: start-up.)"""

    what: str
    symbolic: str
    substituted: str
    result: str
    note: str = ""

    @property
    def topic(self) -> str:
        """'shape', 'params' or 'ops': which command's working this line belongs to."""
        if self.what in SHAPE_LINES:
            return "shape"
        return "params" if self.what in PARAMS_LINES else "ops"
