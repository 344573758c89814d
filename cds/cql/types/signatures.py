"""Signatures of the System operators (CQL 1.5 Appendix B, "CQL Reference"), by ELM name.

Each signature is written ``"A,B->R"`` with System type names, ``List<X>``, ``Interval<X>``,
the type variable ``T`` (generic operators) and ``*`` after the last operand for n-ary
operators (``Coalesce``, ``Concatenate``). :func:`signatures` parses them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cds.cql.types.specifiers import CqlType, IntervalType, ListType, NamedType, system

T = NamedType("T.T")  # the type variable of generic signatures

_NUM = ("Integer", "Long", "Decimal")
_TEMPORAL = ("Date", "DateTime", "Time")


def _each(pattern: str, types: tuple[str, ...]) -> list[str]:
    return [pattern.replace("X", t) for t in types]


_TABLE: dict[str, list[str]] = {
    # logical
    "And": ["Boolean,Boolean->Boolean"],
    "Or": ["Boolean,Boolean->Boolean"],
    "Xor": ["Boolean,Boolean->Boolean"],
    "Implies": ["Boolean,Boolean->Boolean"],
    "Not": ["Boolean->Boolean"],
    "IsTrue": ["Boolean->Boolean"],
    "IsFalse": ["Boolean->Boolean"],
    "IsNull": ["Any->Boolean"],
    "Coalesce": ["T,T*->T", "List<T>->T"],
    # comparison
    "Equal": ["T,T->Boolean"],
    "NotEqual": ["T,T->Boolean"],
    "Equivalent": ["T,T->Boolean"],
    "NotEquivalent": ["T,T->Boolean"],
    **{
        op: _each("X,X->Boolean", (*_NUM, "String", *_TEMPORAL, "Quantity"))
        for op in ("Less", "Greater", "LessOrEqual", "GreaterOrEqual")
    },
    # arithmetic
    "Add": [*_each("X,X->X", (*_NUM, "Quantity")), *_each("X,Quantity->X", _TEMPORAL)],
    "Subtract": [*_each("X,X->X", (*_NUM, "Quantity")), *_each("X,Quantity->X", _TEMPORAL)],
    "Multiply": _each("X,X->X", (*_NUM, "Quantity")),
    "Divide": ["Decimal,Decimal->Decimal", "Quantity,Quantity->Quantity"],
    "TruncatedDivide": _each("X,X->X", (*_NUM, "Quantity")),
    "Modulo": _each("X,X->X", (*_NUM, "Quantity")),
    "Power": _each("X,X->X", _NUM),
    "Negate": _each("X->X", (*_NUM, "Quantity")),
    "Abs": _each("X->X", (*_NUM, "Quantity")),
    "Successor": _each("X->X", (*_NUM, *_TEMPORAL, "Quantity")),
    "Predecessor": _each("X->X", (*_NUM, *_TEMPORAL, "Quantity")),
    "Ceiling": ["Decimal->Integer"],
    "Floor": ["Decimal->Integer"],
    "Truncate": ["Decimal->Integer"],
    "Round": ["Decimal->Decimal", "Decimal,Integer->Decimal"],
    "Ln": ["Decimal->Decimal"],
    "Exp": ["Decimal->Decimal"],
    "Log": ["Decimal,Decimal->Decimal"],
    "Precision": _each("X->Integer", ("Decimal", *_TEMPORAL)),
    # string
    "Concatenate": ["String,String*->String"],
    "Combine": ["List<String>->String", "List<String>,String->String"],
    "Split": ["String,String->List<String>"],
    "SplitOnMatches": ["String,String->List<String>"],
    "Length": ["String->Integer", "List<T>->Integer"],
    "Upper": ["String->String"],
    "Lower": ["String->String"],
    "PositionOf": ["String,String->Integer"],
    "LastPositionOf": ["String,String->Integer"],
    "Substring": ["String,Integer->String", "String,Integer,Integer->String"],
    "StartsWith": ["String,String->Boolean"],
    "EndsWith": ["String,String->Boolean"],
    "Matches": ["String,String->Boolean"],
    "ReplaceMatches": ["String,String,String->String"],
    "Indexer": ["String,Integer->String", "List<T>,Integer->T"],
    # type conversion
    "ToBoolean": [
        "Boolean->Boolean",
        "Integer->Boolean",
        "Long->Boolean",
        "Decimal->Boolean",
        "String->Boolean",
    ],
    "ToInteger": ["Boolean->Integer", "Long->Integer", "String->Integer"],
    "ToLong": ["Boolean->Long", "Integer->Long", "String->Long"],
    "ToDecimal": [
        "Boolean->Decimal",
        "Integer->Decimal",
        "Long->Decimal",
        "Decimal->Decimal",
        "String->Decimal",
    ],
    "ToString": _each("X->String", ("Boolean", *_NUM, "String", "Quantity", "Ratio", *_TEMPORAL)),
    "ToQuantity": ["Integer->Quantity", "Decimal->Quantity", "String->Quantity", "Ratio->Quantity"],
    "ToRatio": ["String->Ratio"],
    "ToDate": ["Date->Date", "DateTime->Date", "String->Date"],
    "ToDateTime": ["Date->DateTime", "DateTime->DateTime", "String->DateTime"],
    "ToTime": ["Time->Time", "String->Time"],
    "ToConcept": ["Code->Concept", "List<Code>->Concept"],
    # date and time
    "Now": ["->DateTime"],
    "Today": ["->Date"],
    "TimeOfDay": ["->Time"],
    "DateFrom": ["DateTime->Date"],
    "TimeFrom": ["DateTime->Time"],
    "TimezoneOffsetFrom": ["DateTime->Decimal"],
    "SameAs": [*_each("X,X->Boolean", _TEMPORAL), "Interval<T>,Interval<T>->Boolean"],
    "SameOrBefore": [*_each("X,X->Boolean", _TEMPORAL), "Interval<T>,Interval<T>->Boolean"],
    "SameOrAfter": [*_each("X,X->Boolean", _TEMPORAL), "Interval<T>,Interval<T>->Boolean"],
    "Before": [
        "T,T->Boolean",
        "Interval<T>,Interval<T>->Boolean",
        "Interval<T>,T->Boolean",
        "T,Interval<T>->Boolean",
    ],
    "After": [
        "T,T->Boolean",
        "Interval<T>,Interval<T>->Boolean",
        "Interval<T>,T->Boolean",
        "T,Interval<T>->Boolean",
    ],
    **{
        op: ["Interval<T>,Interval<T>->Boolean"]
        for op in (
            "Meets",
            "MeetsBefore",
            "MeetsAfter",
            "Overlaps",
            "OverlapsBefore",
            "OverlapsAfter",
            "Starts",
            "Ends",
        )
    },
    "ProperIn": ["T,List<T>->Boolean", "T,Interval<T>->Boolean"],
    "ProperContains": ["List<T>,T->Boolean", "Interval<T>,T->Boolean"],
    "HighBoundary": _each("X,Integer->X", ("Decimal", *_TEMPORAL)),
    "LowBoundary": _each("X,Integer->X", ("Decimal", *_TEMPORAL)),
    "DateTime": [
        "Integer->DateTime",
        "Integer,Integer->DateTime",
        "Integer,Integer,Integer->DateTime",
        "Integer,Integer,Integer,Integer->DateTime",
        "Integer,Integer,Integer,Integer,Integer->DateTime",
        "Integer,Integer,Integer,Integer,Integer,Integer->DateTime",
        "Integer,Integer,Integer,Integer,Integer,Integer,Integer->DateTime",
        "Integer,Integer,Integer,Integer,Integer,Integer,Integer,Decimal->DateTime",
    ],
    "Date": ["Integer->Date", "Integer,Integer->Date", "Integer,Integer,Integer->Date"],
    "Time": [
        "Integer->Time",
        "Integer,Integer->Time",
        "Integer,Integer,Integer->Time",
        "Integer,Integer,Integer,Integer->Time",
    ],
    "Message": ["T,Boolean,String,String,String->T"],
    "Collapse": ["List<Interval<T>>,Quantity->List<Interval<T>>"],
    "Expand": ["List<Interval<T>>,Quantity->List<Interval<T>>", "Interval<T>,Quantity->List<T>"],
    # lists
    "Exists": ["List<T>->Boolean"],
    "First": ["List<T>->T"],
    "Last": ["List<T>->T"],
    "Flatten": ["List<List<T>>->List<T>"],
    "Distinct": ["List<T>->List<T>"],
    "SingletonFrom": ["List<T>->T"],
    "IndexOf": ["List<T>,T->Integer"],
    "Tail": ["List<T>->List<T>"],
    "Skip": ["List<T>,Integer->List<T>"],
    "Take": ["List<T>,Integer->List<T>"],
    "Slice": ["List<T>,Integer,Integer->List<T>", "List<T>,Integer->List<T>", "List<T>->List<T>"],
    "Union": ["List<T>,List<T>->List<T>", "Interval<T>,Interval<T>->Interval<T>"],
    "Intersect": ["List<T>,List<T>->List<T>", "Interval<T>,Interval<T>->Interval<T>"],
    "Except": ["List<T>,List<T>->List<T>", "Interval<T>,Interval<T>->Interval<T>"],
    "In": ["T,List<T>->Boolean", "T,Interval<T>->Boolean"],
    "Contains": ["List<T>,T->Boolean", "Interval<T>,T->Boolean"],
    "Includes": [
        "List<T>,List<T>->Boolean",
        "Interval<T>,Interval<T>->Boolean",
        "List<T>,T->Boolean",
        "Interval<T>,T->Boolean",
    ],
    "IncludedIn": [
        "List<T>,List<T>->Boolean",
        "Interval<T>,Interval<T>->Boolean",
        "T,List<T>->Boolean",
        "T,Interval<T>->Boolean",
    ],
    "ProperIncludes": ["List<T>,List<T>->Boolean", "Interval<T>,Interval<T>->Boolean"],
    "ProperIncludedIn": ["List<T>,List<T>->Boolean", "Interval<T>,Interval<T>->Boolean"],
    # aggregates
    "Count": ["List<T>->Integer"],
    "Sum": _each("List<X>->X", (*_NUM, "Quantity")),
    "Min": _each("List<X>->X", (*_NUM, "String", *_TEMPORAL, "Quantity")),
    "Max": _each("List<X>->X", (*_NUM, "String", *_TEMPORAL, "Quantity")),
    "Avg": _each("List<X>->X", ("Decimal", "Quantity")),
    "Median": _each("List<X>->X", ("Decimal", "Quantity")),
    "Mode": ["List<T>->T"],
    "Variance": _each("List<X>->X", ("Decimal", "Quantity")),
    "PopulationVariance": _each("List<X>->X", ("Decimal", "Quantity")),
    "StdDev": _each("List<X>->X", ("Decimal", "Quantity")),
    "PopulationStdDev": _each("List<X>->X", ("Decimal", "Quantity")),
    "AllTrue": ["List<Boolean>->Boolean"],
    "AnyTrue": ["List<Boolean>->Boolean"],
    "Product": _each("List<X>->X", (*_NUM, "Quantity")),
    "GeometricMean": ["List<Decimal>->Decimal"],
    # intervals
    "Start": ["Interval<T>->T"],
    "End": ["Interval<T>->T"],
    "Width": ["Interval<T>->T"],
    "Size": ["Interval<T>->T"],
    "PointFrom": ["Interval<T>->T"],
    # clinical
    "ConvertQuantity": ["Quantity,String->Quantity"],
    "CalculateAge": ["Date->Integer", "DateTime->Integer"],
    "CalculateAgeAt": ["Date,Date->Integer", "DateTime,DateTime->Integer"],
    "InValueSet": ["String->Boolean", "Code->Boolean", "Concept->Boolean"],
    "AnyInValueSet": ["List<String>->Boolean", "List<Code>->Boolean", "List<Concept>->Boolean"],
}


@dataclass(frozen=True, slots=True)
class Signature:
    operands: tuple[CqlType, ...]
    result: CqlType
    variadic: bool = False


def parse_type(text: str) -> CqlType:
    if text.startswith("List<"):
        return ListType(parse_type(text[5:-1]))
    if text.startswith("Interval<"):
        return IntervalType(parse_type(text[9:-1]))
    return T if text == "T" else system(text)


def _parse(text: str) -> Signature:
    operands, result = text.split("->")
    variadic = operands.endswith("*")
    names = [n for n in operands.rstrip("*").split(",") if n]
    return Signature(tuple(parse_type(n) for n in names), parse_type(result), variadic)


@cache
def signatures(name: str) -> tuple[Signature, ...]:
    """The signatures of System operator ``name`` (empty when the table has none)."""
    return tuple(_parse(s) for s in _TABLE.get(name, ()))
