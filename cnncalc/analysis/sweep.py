"""One network over many input sizes, and the smallest input size it accepts.

``3x{32..512..32}`` is 3×32×32, 3×64×64, …, 3×512×512: a brace holds a range
``{first..last}`` or ``{first..last..step}`` or a list ``{224,256,320}``; several
braces multiply out as in the shell, and top-level commas separate whole shapes
(``3x224x224,3x256x192``). A shape with one spatial size, given to a network with
more spatial axes, means that size along every axis (``3x64`` is 3×64×64 for a
2-D network). Nothing here prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

from cnncalc.analysis.collector import collector_paused
from cnncalc.analysis.memory import MemoryAnalysis, training_memory
from cnncalc.analysis.resized import file_params, resized_layers
from cnncalc.analysis.stats import Analysis, analyse_graph, distinct_sites, site_states
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape
from cnncalc.kinds.base import MAX_SIZE
from cnncalc.model.graph import build_graph
from cnncalc.model.spec import NetworkSpec, parse_shape

MAX_SIZES = 256
"""Most input sizes one sweep analyses (DenseNet-201 takes about 0.15 s a size)."""
MAX_MINSIZE = 4_096
"""minsize tries every size from 1 up to this and gives up past it."""

_BRACE = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$")
FIELD = "--input"


def _values(body: str, text: str) -> list[str]:
    """The values one brace stands for."""
    match = _RANGE.match(body)
    if match:
        first, last = int(match[1]), int(match[2])
        step = 1 if match[3] is None else int(match[3])
        if step < 1:
            raise CnnCalcError(f"'{text}': the step of {{{body}}} must be at least 1", field=FIELD)
        if first > last:
            raise CnnCalcError(
                f"'{text}': the range {{{body}}} runs backwards ({first} > {last})",
                field=FIELD,
                hint=f"write {{{last}..{first}}}",
            )
        if last > MAX_SIZE:
            raise CnnCalcError(
                f"'{text}': {last:,} is larger than the size limit {MAX_SIZE:,}", field=FIELD
            )
        count = (last - first) // step + 1
        if count > MAX_SIZES:
            raise CnnCalcError(
                f"'{text}': {{{body}}} has {count:,} sizes, more than the "
                f"{MAX_SIZES:,} a sweep takes",
                field=FIELD,
                hint="use a larger step",
            )
        return [str(v) for v in range(first, last + 1, step)]
    items = [v.strip() for v in body.split(",")]
    if len(items) < 1 or not all(v.isdigit() for v in items):
        raise CnnCalcError(
            f"'{text}': {{{body}}} is neither a range {{first..last..step}} nor "
            "a list {a,b,c} of sizes",
            field=FIELD,
            hint="e.g. 3x{32..512..32} or 3x{224,256}",
        )
    return items


def _split_top(text: str) -> list[str]:
    """Split on the commas that are not inside braces."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise CnnCalcError(f"'{text}': a '}}' without its '{{'", field=FIELD)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise CnnCalcError(f"'{text}': a '{{' without its '}}'", field=FIELD)
    return parts + [text[start:]]


def expand(texts: list[str]) -> list[str]:
    """Every shape a sweep's ``--input`` (and what the shell split off it) stands for."""
    shapes: list[str] = []
    for text in texts:
        for part in _split_top(text.strip()):
            if not part.strip():
                raise CnnCalcError(f"'{text}' has an empty shape between commas", field=FIELD)
            pieces = _BRACE.split(part)
            literal, braces = pieces[0::2], pieces[1::2]
            if any("{" in p or "}" in p for p in literal):
                raise CnnCalcError(f"'{text}': braces cannot be nested", field=FIELD)
            choices = [_values(b, text) for b in braces]
            total = 1
            for c in choices:
                total *= len(c)
            if len(shapes) + total > MAX_SIZES:
                raise CnnCalcError(
                    f"'{text}' makes more than {MAX_SIZES:,} input sizes",
                    field=FIELD,
                    hint="use a larger step or fewer braces",
                )
            for combo in product(*choices):
                shapes.append("".join(p for pair in zip(literal, list(combo) + [""]) for p in pair))
    return shapes


def sweep_shapes(texts: list[str], net_input: Shape) -> list[Shape]:
    """The input shapes of a sweep; ``C×n`` means n along every spatial axis."""
    result = []
    for text in expand(texts):
        shape = parse_shape(text, field_name=FIELD)
        if len(shape) == 2 and len(net_input) > 2:
            shape = (shape[0],) + (shape[1],) * (len(net_input) - 1)
        result.append(shape)
    return result


@dataclass(frozen=True)
class SweepPoint:
    input: Shape
    analysis: Analysis | None
    memory: MemoryAnalysis | None
    error: str | None
    """Why the network does not run at this size (None when it does)."""
    resized: tuple = ()
    """Layers whose parameters differ from the file's at its own input
    (:class:`cnncalc.analysis.resized.Resized`)."""


@dataclass(frozen=True)
class MinSize:
    network: str
    size: Shape
    """The smallest input, the same extent along every spatial axis, that every layer takes."""
    below: Shape | None
    """One pixel less (None when the size is 1)."""
    reason: str | None
    """Why one pixel less fails."""


@dataclass(frozen=True)
class Sweep:
    network: str
    input: Shape
    """The input the file was written for."""
    batch: int
    dtype: str
    optimizer: str
    points: tuple[SweepPoint, ...]
    minsize: MinSize | None
    """The network's smallest valid size, or None when none is found up to MAX_MINSIZE."""

    @property
    def smallest_valid(self) -> SweepPoint | None:
        """The smallest swept size that runs (by the product of its spatial extents)."""
        valid = [p for p in self.points if p.error is None]
        return min(valid, key=lambda p: (p.input[1:], p.input)) if valid else None


def _square(channels: int, n: int, ndim: int) -> Shape:
    return (channels,) + (n,) * ndim


def min_size(spec: NetworkSpec, limit: int = MAX_MINSIZE) -> MinSize:
    """The smallest n such that the network runs on C×n×…×n (C and the number of spatial
    axes from the network's input), found by trying n = 1, 2, … (a network's valid sizes
    need not be contiguous: branches that must agree can disagree at some sizes)."""
    channels, ndim = spec.input[0], len(spec.input) - 1
    if ndim == 0:
        raise CnnCalcError(
            f"'{spec.name}' takes a vector input {spec.input}, which has no "
            "spatial size to minimise",
            file=spec.file,
            field="input",
        )
    last_error = None
    for n in range(1, limit + 1):
        try:
            build_graph(spec, _square(channels, n, ndim))
        except CnnCalcError as exc:
            last_error = exc.message
            continue
        below = _square(channels, n - 1, ndim) if n > 1 else None
        return MinSize(spec.name, _square(channels, n, ndim), below, last_error)
    raise CnnCalcError(
        f"'{spec.name}' runs on no input from 1 to {limit:,} pixels a side; "
        f"at {limit:,}: {last_error}",
        file=spec.file,
        field="input",
    )


def sweep(
    spec: NetworkSpec,
    shapes: list[Shape],
    batch: int = 1,
    convention: str = "macs",
    dtype: str = "fp32",
    optimizer: str = "sgd",
) -> Sweep:
    """Shapes, parameters, operations and training memory at each input size."""
    with collector_paused():
        return _sweep(spec, shapes, batch, convention, dtype, optimizer)


def _sweep(
    spec: NetworkSpec,
    shapes: list[Shape],
    batch: int,
    convention: str,
    dtype: str,
    optimizer: str,
) -> Sweep:
    points = []
    try:
        at_file = file_params(build_graph(spec))
    except CnnCalcError:
        at_file = None
    for shape in shapes:
        try:
            graph = build_graph(spec, shape)
        except CnnCalcError as exc:
            points.append(SweepPoint(shape, None, None, exc.message))
            continue
        sites = distinct_sites(graph)  # one grouping for the stats and the memory
        analysis = analyse_graph(graph, batch, convention, sites=sites)
        resized = ()
        if at_file is not None:
            params = [layer.params for layer in analysis.layers]
            resized = resized_layers(spec, graph, params=params, at_file=at_file)
        points.append(
            SweepPoint(
                shape,
                analysis,
                training_memory(graph, batch, dtype, optimizer, sites, site_states(analysis)),
                None,
                resized,
            )
        )
    try:
        smallest = min_size(spec)
    except CnnCalcError:
        smallest = None
    return Sweep(spec.name, spec.input, batch, dtype, optimizer, tuple(points), smallest)
