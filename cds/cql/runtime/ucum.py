"""UCUM unit conversion for the clinical units in common use.

A unit expression (``mg/dL``, ``10*3/uL``, ``g/cm3``, ``mmol/L``, ``[lb_av]``, ``%``) is
parsed into a factor and a dimension vector over the base units (g, m, s, mol, ... ); two units
convert when their dimensions agree. Temperature offsets (Cel, [degF]) are not linear and do not
convert here. Unknown units convert only to themselves.
"""

from __future__ import annotations

import decimal
import re
from functools import lru_cache

D = decimal.Decimal
# base dimensions: mass, length, time, amount, count/other
_BASE: dict[str, tuple[D, tuple[int, ...]]] = {
    "g": (D(1), (1, 0, 0, 0)),
    "m": (D(1), (0, 1, 0, 0)),
    "s": (D(1), (0, 0, 1, 0)),
    "mol": (D(1), (0, 0, 0, 1)),
    "L": (D("0.001"), (0, 3, 0, 0)),
    "l": (D("0.001"), (0, 3, 0, 0)),
    "min": (D(60), (0, 0, 1, 0)),
    "h": (D(3600), (0, 0, 1, 0)),
    "d": (D(86400), (0, 0, 1, 0)),
    "wk": (D(604800), (0, 0, 1, 0)),
    "mo": (D("2629800"), (0, 0, 1, 0)),
    "a": (D("31557600"), (0, 0, 1, 0)),
    "%": (D("0.01"), (0, 0, 0, 0)),
    # Calendar durations of definite length compare with their UCUM units (not year, month).
    "millisecond": (D("0.001"), (0, 0, 1, 0)),
    "second": (D(1), (0, 0, 1, 0)),
    "minute": (D(60), (0, 0, 1, 0)),
    "hour": (D(3600), (0, 0, 1, 0)),
    "day": (D(86400), (0, 0, 1, 0)),
    "week": (D(604800), (0, 0, 1, 0)),
    "1": (D(1), (0, 0, 0, 0)),
    "[lb_av]": (D("453.59237"), (1, 0, 0, 0)),
    "[oz_av]": (D("28.349523125"), (1, 0, 0, 0)),
    "[in_i]": (D("0.0254"), (0, 1, 0, 0)),
    "[ft_i]": (D("0.3048"), (0, 1, 0, 0)),
    "[iU]": (D(1), (0, 0, 0, 0)),
    "U": (D(1), (0, 0, 0, 0)),
    "eq": (D(1), (0, 0, 0, 1)),
    "mm[Hg]": (D("133.322"), (1, -1, -2, 0)),
}
_PREFIX = {
    "k": D(1000),
    "h": D(100),
    "da": D(10),
    "d": D("0.1"),
    "c": D("0.01"),
    "m": D("0.001"),
    "u": D("0.000001"),
    "n": D("1e-9"),
    "p": D("1e-12"),
    "f": D("1e-15"),
    "M": D("1e6"),
    "G": D("1e9"),
}
_TERM = re.compile(r"^(?P<atom>10\*[+-]?\d+|\[[^\]]+\]|[A-Za-z%]+(?:\[[A-Za-z]+\])?|1)(?P<exp>[+-]?\d+)?$")
Dim = tuple[int, ...]


def _atom(atom: str) -> tuple[D, Dim] | None:
    if atom.startswith("10*"):
        return D(10) ** int(atom[3:]), (0, 0, 0, 0)
    if atom in _BASE:
        return _BASE[atom]
    for prefix in sorted(_PREFIX, key=len, reverse=True):
        if atom.startswith(prefix) and atom[len(prefix) :] in _BASE and atom[len(prefix) :] not in ("%", "1"):
            factor, dim = _BASE[atom[len(prefix) :]]
            return _PREFIX[prefix] * factor, dim
    return None


@lru_cache(maxsize=512)
def parse(unit: str) -> tuple[D, Dim] | None:
    """(factor to base units, dimension vector) of a UCUM unit expression, or None if unknown."""
    text = re.sub(r"\{[^}]*\}", "", unit).strip() or "1"
    factor, dims = D(1), [0, 0, 0, 0]
    sign = 1
    for token in re.split(r"([./])", text):
        if token == ".":
            sign = 1 if sign == 1 else sign
            continue
        if token == "/":
            sign = -1
            continue
        if not token:
            continue
        m = _TERM.match(token)
        if not m:
            return None
        found = _atom(m.group("atom"))
        if found is None:
            return None
        exp = int(m.group("exp") or 1) * sign
        f, d = found
        factor *= f**exp
        dims = [a + b * exp for a, b in zip(dims, d, strict=True)]
        if sign == -1:
            sign = 1  # '/' applies to the next term only
    return factor, tuple(dims)


def convert(value: D, from_unit: str, to_unit: str) -> D | None:
    if from_unit == to_unit:
        return value
    a, b = parse(from_unit), parse(to_unit)
    if a is None or b is None or a[1] != b[1]:
        return None
    with decimal.localcontext() as ctx:
        ctx.prec = 28
        return value * a[0] / b[0]
