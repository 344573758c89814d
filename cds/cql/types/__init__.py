"""Static CQL types: type specifiers, the FHIR model info, subtyping and implicit conversions,
System operator signatures and overload resolution (CQL 1.5 type-resolution rules). The walk
that gives every expression its type is :mod:`cds.cql.elm.translator` (types and ELM are
resolved in one pass)."""
