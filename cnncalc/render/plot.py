"""``--plot FILE.png|svg|pdf``: per-layer bars or a sweep's curves, drawn with matplotlib.

matplotlib is an optional extra (``pip install cnncalc[plot]``), imported only
when a plot is asked for. The numbers come from the same :class:`Rows` the
table shows; this module draws and writes a file, and computes nothing.
"""

from __future__ import annotations

from pathlib import Path

from cnncalc.errors import CnnCalcError
from cnncalc.render.numbers import human, human_bytes
from cnncalc.render.tables import Rows

FORMATS = (".png", ".svg", ".pdf")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise CnnCalcError(
            "drawing a plot needs matplotlib, which is not installed",
            field="--plot",
            hint="pip install 'cnncalc[plot]'",
        ) from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # an SVG's labels stay text, to edit or search
    import matplotlib.pyplot as plt

    return plt


def check_path(path: Path) -> Path:
    """Refuse a file that cannot be written, or a missing matplotlib, before any work."""
    _pyplot()
    if path.suffix.lower() not in FORMATS:
        raise CnnCalcError(
            f"'{path}' is not a .png, .svg or .pdf file",
            field="--plot",
            hint="e.g. --plot layers.png",
        )
    if not path.parent.is_dir():
        raise CnnCalcError(f"the folder '{path.parent}' does not exist", field="--plot")
    return path


def tick_text(value: float, unit: str = "") -> str:
    """An axis tick in the table's units: 2500000 → '2.5 M', 1048576 bytes → '1 MiB'."""
    n = int(value) if float(value).is_integer() else value
    text = human_bytes(n) if unit == "bytes" else human(n)
    number, _, prefix = text.partition(" ")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number} {prefix}".rstrip()


def _units(axis, unit: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: tick_text(v, unit)))


def _save(fig, path: Path) -> None:
    try:
        fig.savefig(path, bbox_inches="tight")
    except OSError as exc:
        raise CnnCalcError(f"cannot write '{path}': {exc.strerror}", field="--plot") from None


MAX_BARS = 30
"""A plot of a longer network folds its layers by block: 707 bars (densenet201) are a
12,000-pixel image nobody reads, and take seconds to draw."""


def _summed(name: str, rows: list[dict], series: tuple[str, ...]) -> dict:
    """One bar standing for several rows: each series summed over them, exactly."""
    return {"name": name, **{key: sum(r.get(key) or 0 for r in rows) for key in series}}


def _runs(rows: list[dict], level: int) -> list[tuple[str, list[dict]]]:
    """Consecutive rows whose names share their first ``level`` dotted parts."""
    runs: list[tuple[str, list[dict]]] = []
    for r in rows:
        prefix = ".".join(str(r["name"]).split(".")[:level])
        if runs and runs[-1][0] == prefix:
            runs[-1][1].append(r)
        else:
            runs.append((prefix, [r]))
    return runs


def folded(rows: list[dict], series: tuple[str, ...], limit: int = MAX_BARS) -> list[dict]:
    """At most ``limit`` bars: the rows themselves; else the blocks of the deepest name level
    that gives at most ``limit`` (``features.denseblock3``, 48 layers summed); else, where even
    the first level gives more, the largest rows in network order and one bar for the rest."""
    if len(rows) <= limit:
        return rows
    best = None
    for level in range(1, max(str(r["name"]).count(".") for r in rows) + 1):
        runs = _runs(rows, level)
        if len(runs) > limit:
            break
        best = runs
    if best is not None and len(best) > 1:
        return [
            group[0] if len(group) == 1 else _summed(f"{name} ({len(group)} layers)", group, series)
            for name, group in best
        ]
    size = [sum(r.get(key) or 0 for key in series) for r in rows]
    kept = set(sorted(range(len(rows)), key=lambda i: size[i], reverse=True)[: limit - 1])
    rest = [r for i, r in enumerate(rows) if i not in kept]
    largest = [r for i, r in enumerate(rows) if i in kept]
    return largest + [_summed(f"the other {len(rest)} layers", rest, series)]


def bars(t: Rows, series: tuple[str, ...], path: Path, ylabel: str) -> None:
    """One bar per row (layer or kind), ``series`` stacked; the total row and the rows
    that are 0 in every series (a ReLU's FLOPs under macs) are left out. Past
    :data:`MAX_BARS` rows, bars stand for blocks, or the largest layers and one bar for the
    rest (:func:`folded`)."""
    plt = _pyplot()
    drawn = [r for r in t.rows if any(r.get(key) for key in series)]
    if not drawn:
        raise CnnCalcError(f"every row's {ylabel} is 0: there is nothing to draw", field="--plot")
    rows = folded(drawn, series)
    labels = [str(r["name"]) for r in rows]
    titles = {c.key: c.title for c in t.cols}
    height = max(3.0, 0.22 * len(labels) + 1.5)
    fig, ax = plt.subplots(figsize=(10, height))
    left = [0] * len(labels)
    positions = list(range(len(labels)))
    for key in series:
        values = [r.get(key) or 0 for r in rows]
        ax.barh(positions, values, left=left, label=titles.get(key, key))
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(positions, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(ylabel)
    _units(ax.xaxis, ylabel)
    title = t.title
    if len(rows) < len(drawn):
        title += f"\n{len(drawn)} layers in {len(rows)} bars; a bar of several layers sums them"
    ax.set_title(title, fontsize=10, loc="left")
    if len(series) > 1:
        ax.legend(loc="lower right")
    _save(fig, path)
    plt.close(fig)


def curves(t: Rows, series: tuple[tuple[str, str], ...], path: Path) -> None:
    """A sweep: one panel per (key, label) against the input size; sizes that fail are gaps."""
    plt = _pyplot()
    valid = [r for r in t.rows if r.get("output") is not None]
    if not valid:
        raise CnnCalcError("no swept input size runs, so there is nothing to plot", field="--plot")
    varying = [
        i for i in range(1, len(valid[0]["input"])) if len({r["input"][i] for r in valid}) > 1
    ] or [len(valid[0]["input"]) - 1]
    x = [r["input"][varying[0]] for r in valid]
    fig, axes = plt.subplots(len(series), 1, figsize=(8, 2.6 * len(series)), sharex=True)
    for ax, (key, label) in zip(axes, series):
        ax.plot(x, [r[key] for r in valid], marker="o")
        ax.set_ylabel(label)
        _units(ax.yaxis, "bytes" if "bytes" in label else "")
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("input size (pixels a side)")
    axes[0].set_title(t.title, fontsize=10, loc="left")
    _save(fig, path)
    plt.close(fig)
