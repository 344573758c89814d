"""Arithmetic (CQL 1.5 §9.5): Integer (32-bit), Long (64-bit), Decimal (28 digits, 8 decimal
places), Quantity (UCUM), and date/time ± temporal quantities. Results out of range are null."""

from __future__ import annotations

import decimal
import math
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators import uncertainty
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity
from cds.cql.runtime.values import (
    DECIMAL_CONTEXT,
    MAX_DECIMAL,
    MAX_INTEGER,
    MAX_LONG,
    MIN_DECIMAL,
    MIN_INTEGER,
    MIN_LONG,
    Long,
)

D = decimal.Decimal
STEP = D("0.00000001")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _kind(a: Any, b: Any) -> str:
    if isinstance(a, Quantity) or isinstance(b, Quantity):
        return "quantity"
    if isinstance(a, D) or isinstance(b, D):
        return "decimal"
    if isinstance(a, Long) or isinstance(b, Long):
        return "long"
    return "integer"


def _fit(value: Any, kind: str) -> Any:
    if kind == "integer":
        return value if MIN_INTEGER <= value <= MAX_INTEGER else None
    if kind == "long":
        return Long(value) if MIN_LONG <= value <= MAX_LONG else None
    if kind == "decimal":
        value = (
            D(value).quantize(STEP, rounding=decimal.ROUND_HALF_UP, context=DECIMAL_CONTEXT)
            if _needs_round(value)
            else D(value)
        )
        return value if MIN_DECIMAL <= value <= MAX_DECIMAL else None
    return value


def _needs_round(value: Any) -> bool:
    return isinstance(value, D) and value.as_tuple().exponent < -8  # type: ignore[operator]


def _dec(x: Any) -> D:
    return x if isinstance(x, D) else D(int(x))


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    from cds.cql.runtime import temporal

    if temporal.is_temporal(a) and isinstance(b, Quantity):
        from cds.cql.operators.datetime import add_quantity

        return add_quantity(a, b)
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.arithmetic(a, b, "+")
    kind = _kind(a, b)
    if kind == "quantity":
        return _quantity_op(a, b, 1)
    if kind == "decimal":
        return _fit(_dec(a) + _dec(b), kind)
    return _fit(int(a) + int(b), kind)


def subtract(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    from cds.cql.runtime import temporal

    if temporal.is_temporal(a) and isinstance(b, Quantity):
        from cds.cql.operators.datetime import add_quantity

        return add_quantity(a, Quantity(-b.value, b.unit))
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.arithmetic(a, b, "-")
    kind = _kind(a, b)
    if kind == "quantity":
        return _quantity_op(a, b, -1)
    if kind == "decimal":
        return _fit(_dec(a) - _dec(b), kind)
    return _fit(int(a) - int(b), kind)


def _quantity_op(a: Any, b: Any, sign: int) -> Quantity | None:
    if not isinstance(a, Quantity):
        a = Quantity(a, "1")
    if not isinstance(b, Quantity):
        b = Quantity(b, "1")
    if a.unit == b.unit:
        value = a.value + sign * b.value
    else:
        from cds.cql.runtime import ucum

        converted = ucum.convert(b.value, b.unit, a.unit)
        if converted is None:
            return None
        value = a.value + sign * converted
    fitted = _fit(value, "decimal")
    return None if fitted is None else Quantity(fitted, a.unit)


@operator("Add")
def Add(a: Any, b: Any) -> Any:
    return add(a, b)


@operator("Subtract")
def Subtract(a: Any, b: Any) -> Any:
    return subtract(a, b)


def _unit_product(u1: str, u2: str, sign: int) -> str:
    if u2 == "1":
        return u1
    if u1 == "1":
        return u2 if sign > 0 else f"1/{u2}"
    if sign > 0:
        return f"{u1}.{u2}"
    return f"{u1}/{u2}"


@operator("Multiply")
def Multiply(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.arithmetic(a, b, "*")
    kind = _kind(a, b)
    if kind == "quantity":
        qa = a if isinstance(a, Quantity) else Quantity(a, "1")
        qb = b if isinstance(b, Quantity) else Quantity(b, "1")
        value = _fit(qa.value * qb.value, "decimal")
        return None if value is None else Quantity(value, _unit_product(qa.unit, qb.unit, 1))
    if kind == "decimal":
        return _fit(_dec(a) * _dec(b), kind)
    return _fit(int(a) * int(b), kind)


@operator("Divide")
def Divide(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        raise CqlRuntimeError("Divide is not defined for uncertainties (durations between imprecise date/times)")
    if isinstance(a, Quantity) or isinstance(b, Quantity):
        qa = a if isinstance(a, Quantity) else Quantity(a, "1")
        qb = b if isinstance(b, Quantity) else Quantity(b, "1")
        if qb.value == 0:
            return None
        unit = "1" if qa.unit == qb.unit else _unit_product(qa.unit, qb.unit, -1)
        value = _fit(decimal.Context(prec=28).divide(qa.value, qb.value), "decimal")
        return None if value is None else Quantity(value, unit)
    if _dec(b) == 0:
        return None
    return _fit(decimal.Context(prec=28).divide(_dec(a), _dec(b)), "decimal")


@operator("TruncatedDivide")
def TruncatedDivide(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        raise CqlRuntimeError("TruncatedDivide is not defined for uncertainties (durations between imprecise date/times)")
    if isinstance(a, Quantity) or isinstance(b, Quantity):
        return _quantity_division(a, b, TruncatedDivide)
    kind = _kind(a, b)
    if _dec(b) == 0:
        return None
    if kind == "decimal":
        return _fit((_dec(a) / _dec(b)).to_integral_value(rounding=decimal.ROUND_DOWN), kind)
    q = abs(int(a)) // abs(int(b))
    return _fit(q if (int(a) >= 0) == (int(b) >= 0) else -q, kind)


@operator("Modulo")
def Modulo(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        raise CqlRuntimeError("Modulo is not defined for uncertainties (durations between imprecise date/times)")
    kind = _kind(a, b)
    if kind == "quantity":
        return _quantity_division(a, b, Modulo)
    if _dec(b) == 0:
        return None
    if kind == "decimal":
        return _fit(_dec(a) % _dec(b), kind)
    r = abs(int(a)) % abs(int(b))
    return _fit(r if int(a) >= 0 else -r, kind)


def _quantity_division(a: Any, b: Any, op: Any) -> Quantity | None:
    """``div``/``mod`` of two quantities of one dimension: the values in the first one's unit,
    the result in that unit."""
    if not isinstance(a, Quantity) or not isinstance(b, Quantity):
        return None
    right = b.value
    if b.unit != a.unit:
        from cds.cql.runtime import ucum

        converted = ucum.convert(b.value, b.unit, a.unit)
        if converted is None:
            return None
        right = converted
    value = op(a.value, right)
    return None if value is None else Quantity(value, a.unit)


@operator("Negate")
def Negate(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, Quantity):
        return Quantity(-a.value, a.unit)
    if isinstance(a, Long):
        return _fit(-int(a), "long")
    if isinstance(a, D):
        return -a
    return _fit(-a, "integer")


@operator("Abs")
def Abs(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, Quantity):
        return Quantity(abs(a.value), a.unit)
    if isinstance(a, Long):
        return _fit(abs(int(a)), "long")
    if isinstance(a, D):
        return abs(a)
    return _fit(abs(a), "integer")


@operator("Ceiling")
def Ceiling(a: Any) -> Any:
    return None if a is None else _fit(math.ceil(_dec(a)), "integer")


@operator("Floor")
def Floor(a: Any) -> Any:
    return None if a is None else _fit(math.floor(_dec(a)), "integer")


@operator("Truncate")
def Truncate(a: Any) -> Any:
    return None if a is None else _fit(int(_dec(a)), "integer")


@operator("Round")
def Round(a: Any, precision: Any = None) -> Any:
    if a is None:
        return None
    places = 0 if precision is None else int(precision)
    q = D(1).scaleb(-places)
    return _dec(a).quantize(q, rounding=decimal.ROUND_HALF_UP)


@operator("Ln")
def Ln(a: Any) -> Any:
    if a is None:
        return None
    if _dec(a) <= 0:
        return None
    return _fit(_dec(a).ln(DECIMAL_CONTEXT), "decimal")


@operator("Exp")
def Exp(a: Any) -> Any:
    if a is None:
        return None
    try:
        return _fit(_dec(a).exp(DECIMAL_CONTEXT), "decimal")
    except decimal.Overflow:
        return None


@operator("Log")
def Log(a: Any, base: Any) -> Any:
    if a is None or base is None or _dec(a) <= 0 or _dec(base) <= 0 or _dec(base) == 1:
        return None
    return _fit(_dec(a).ln(DECIMAL_CONTEXT) / _dec(base).ln(DECIMAL_CONTEXT), "decimal")


@operator("Power")
def Power(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    kind = _kind(a, b)
    if kind in ("integer", "long"):
        if int(b) < 0:
            return _fit(D(1) / (D(int(a)) ** -int(b)), "decimal")
        return _fit(int(a) ** int(b), kind)
    try:
        return _fit(_dec(a) ** _dec(b), "decimal")
    except (decimal.InvalidOperation, decimal.Overflow):
        return None


def successor(x: Any) -> Any:
    """The next value of ``x``'s type at its precision; None for null and past the type's
    maximum (interval boundaries use this form; the Successor operator raises there)."""
    return _step(x, 1)


def predecessor(x: Any) -> Any:
    return _step(x, -1)


def _step(x: Any, sign: int) -> Any:
    if x is None:
        return None
    if isinstance(x, Long):
        return _fit(int(x) + sign, "long")
    if _is_int(x):
        return _fit(x + sign, "integer")
    if isinstance(x, D):
        return _fit(x + sign * STEP, "decimal")
    if isinstance(x, Quantity):
        value = _fit(x.value + sign * STEP, "decimal")
        return None if value is None else Quantity(value, x.unit)
    from cds.cql.runtime import temporal

    if temporal.is_temporal(x):
        return x.shifted(sign)
    return None


@operator("Successor")
def Successor(x: Any) -> Any:
    result = successor(x)
    if result is None and x is not None:
        raise CqlRuntimeError(f"successor of {x!r}: the maximum value of its type has no successor")
    return result


@operator("Predecessor")
def Predecessor(x: Any) -> Any:
    result = predecessor(x)
    if result is None and x is not None:
        raise CqlRuntimeError(f"predecessor of {x!r}: the minimum value of its type has no predecessor")
    return result
