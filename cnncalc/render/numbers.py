"""Numbers as people read them: grouped digits, units, shapes, fractions, share bars."""

from __future__ import annotations

import re
from fractions import Fraction

FORMATS = ("table", "json", "csv", "markdown")


def human(n: int | Fraction, unit: str = "") -> str:
    """5,898,240,000 → '5.90 G' (for people only)."""
    for scale, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= scale:
            return f"{float(n) / scale:.2f} {prefix}{unit}"
    return f"{n} {unit}".rstrip()


def human_bytes(n: int) -> str:
    for scale, prefix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.2f} {prefix}"
    return f"{n} B"


def shape_text(shape) -> str:
    return "×".join(str(v) for v in shape)


def exact(value: Fraction) -> int | str:
    """A receptive-field number as JSON: an int, or 'p/q' when a transposed conv made it fractional."""
    return int(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def fraction_text(values) -> str:
    return "×".join(str(exact(v)) for v in values) if values else "–"


def ascii_shape(values) -> str:
    """A shape or a receptive field as every CSV writes it: ``3x224x224``, ``7/2x7/2``."""
    return "x".join(str(exact(v) if isinstance(v, Fraction) else v) for v in values)


def bar(share: Fraction, width: int = 10) -> str:
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")).ljust(
        width
    ) + f" {float(share) * 100:5.1f}%"


_BIG = re.compile(r"(?<![\d.])\d{5,}")


def grouped(text: str, sep: str = ",") -> str:
    """Thousands separators in the numbers of five digits or more: 122304 → 122,304."""
    return _BIG.sub(lambda m: f"{int(m.group()):,}".replace(",", sep), text)
