"""CQL runtime values as JSON (the output of ``dli-cds cql run``).

| value | JSON |
|---|---|
| null | ``null`` |
| Boolean, Integer, Long, Decimal, String | ``true``/``false``, number, string (Decimals keep their digits) |
| Date, DateTime, Time | ISO text at the value's precision (CQL ``ToString``) |
| Quantity | ``{"value": number, "unit": string}`` |
| Ratio | ``{"numerator": Quantity, "denominator": Quantity}`` |
| Code | ``{"system", "code"[, "display"]}`` |
| Concept | ``{"codes": [Code...][, "display"]}`` |
| Interval | ``{"low", "high", "lowClosed", "highClosed"}`` |
| List | array; Tuple → object |
| FHIR resource | ``"Type/id"``; a FHIR element → its System value or its JSON |
| ValueSet / CodeSystem reference | its canonical url |
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.runtime.fhir import FhirNode, to_system


def to_json(value: Any) -> Any:
    """A JSON-ready Python structure (Decimals stay ``Decimal``; :func:`dumps` writes them)."""
    if value is None or isinstance(value, bool | str | decimal.Decimal):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Code):
        out: dict[str, Any] = {"system": value.system, "code": value.code}
        if value.display is not None:
            out["display"] = value.display
        return out
    if isinstance(value, Concept):
        concept: dict[str, Any] = {"codes": [to_json(c) for c in value.codes]}
        if value.display is not None:
            concept["display"] = value.display
        return concept
    if isinstance(value, ValueSetRef):
        return value.canonical
    if isinstance(value, CodeSystemRef):
        return value.id
    if isinstance(value, FhirNode):
        if "resourceType" in value.data:
            ref = value.reference()
            return ref if ref is not None else value.type_name
        converted = to_system(value)
        return value.data if isinstance(converted, FhirNode) else to_json(converted)
    kind = type(value).__name__
    if kind == "Quantity":
        return {"value": value.value, "unit": value.unit}
    if kind == "Ratio":
        return {"numerator": to_json(value.numerator), "denominator": to_json(value.denominator)}
    if kind == "Interval":
        return {
            "low": to_json(value.low),
            "high": to_json(value.high),
            "lowClosed": value.low_closed,
            "highClosed": value.high_closed,
        }
    if kind in ("Date", "DateTime", "Time"):
        return _temporal_text(value)
    raise CqlRuntimeError(f"no JSON form for a {kind} value")


def _temporal_text(value: Any) -> str:
    from cds.cql.operators.registry import lookup

    to_string = lookup("ToString")
    if to_string is None:
        raise CqlRuntimeError("writing a Date/DateTime/Time needs the ToString operator")
    text = to_string(value)
    if not isinstance(text, str):
        raise CqlRuntimeError(f"ToString of {value!r} gave no text")
    return text


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``to_json(value)``; Decimals are written with their exact digits."""
    return _write(to_json(value), indent, 0)


def _write(obj: Any, indent: int | None, level: int) -> str:
    if isinstance(obj, decimal.Decimal):
        if not obj.is_finite():
            raise CqlRuntimeError(f"{obj} has no JSON form")
        text = format(obj, "f")
        return text
    if isinstance(obj, list | dict):
        items = (
            [_write(v, indent, level + 1) for v in obj]
            if isinstance(obj, list)
            else [f"{json.dumps(k)}: {_write(v, indent, level + 1)}" for k, v in obj.items()]
        )
        open_, close = ("[", "]") if isinstance(obj, list) else ("{", "}")
        if not items:
            return open_ + close
        if indent is None:
            return open_ + ", ".join(items) + close
        pad = " " * (indent * (level + 1))
        return open_ + "\n" + ",\n".join(pad + i for i in items) + "\n" + " " * (indent * level) + close
    return json.dumps(obj, ensure_ascii=False)
