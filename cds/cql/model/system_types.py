"""The CQL System model (the ``System`` namespace of model info, CQL 1.5 Appendix B).

Type names are qualified: ``"System.Integer"``. ``System.Any`` is the root of every type; the
vocabulary types ``System.ValueSet`` and ``System.CodeSystem`` specialise ``System.Vocabulary``.
FHIR primitive types map to System types as the FHIR model info (and FHIRHelpers) defines.
"""

from __future__ import annotations

ANY = "System.Any"

#: System type → its base type (``System.Any`` has none).
SYSTEM_PARENTS: dict[str, str | None] = {
    "System.Any": None,
    "System.Boolean": ANY,
    "System.Integer": ANY,
    "System.Long": ANY,
    "System.Decimal": ANY,
    "System.String": ANY,
    "System.Date": ANY,
    "System.DateTime": ANY,
    "System.Time": ANY,
    "System.Quantity": ANY,
    "System.Ratio": ANY,
    "System.Code": ANY,
    "System.Concept": ANY,
    "System.Vocabulary": ANY,
    "System.ValueSet": "System.Vocabulary",
    "System.CodeSystem": "System.Vocabulary",
}

#: Types with an ordering (comparison operators, intervals).
ORDERED_TYPES = frozenset(
    {
        "System.Integer",
        "System.Long",
        "System.Decimal",
        "System.String",
        "System.Date",
        "System.DateTime",
        "System.Time",
        "System.Quantity",
    }
)

#: FHIR primitive type → the System type its ``value`` has.
FHIR_PRIMITIVE_TO_SYSTEM: dict[str, str] = {
    "boolean": "System.Boolean",
    "integer": "System.Integer",
    "positiveInt": "System.Integer",
    "unsignedInt": "System.Integer",
    "integer64": "System.Long",
    "decimal": "System.Decimal",
    "string": "System.String",
    "code": "System.String",
    "id": "System.String",
    "markdown": "System.String",
    "uri": "System.String",
    "url": "System.String",
    "canonical": "System.String",
    "oid": "System.String",
    "uuid": "System.String",
    "base64Binary": "System.String",
    "xhtml": "System.String",
    "date": "System.Date",
    "dateTime": "System.DateTime",
    "instant": "System.DateTime",
    "time": "System.Time",
}


def is_system_type(name: str) -> bool:
    return name in SYSTEM_PARENTS


def system_parent(name: str) -> str | None:
    """The base type of a System type; KeyError for a name that is not a System type."""
    return SYSTEM_PARENTS[name]


def system_is_subtype(sub: str, sup: str) -> bool:
    """True when ``sub`` is ``sup`` or derives from it (both System type names)."""
    current: str | None = sub
    while current is not None:
        if current == sup:
            return True
        current = SYSTEM_PARENTS.get(current)
    return False


def fhir_primitive_system_type(fhir_type: str) -> str | None:
    """The System type of a FHIR primitive's value (``"dateTime"`` → ``"System.DateTime"``)."""
    return FHIR_PRIMITIVE_TO_SYSTEM.get(fhir_type.removeprefix("FHIR."))


#: Unqualified type names resolve in the library's data model first (``Quantity`` is
#: ``FHIR.Quantity`` under ``using FHIR``), except these System terminology types: the reference
#: translator types FHIRHelpers' ``ValueSet { id: uri }`` as a System.ValueSet.
SYSTEM_FIRST = frozenset({"ValueSet", "CodeSystem", "Vocabulary"})
