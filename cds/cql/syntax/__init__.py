"""CQL text → typed syntax tree: ``parse_library`` and ``parse_expression``."""

from cds.cql.syntax.parser import parse_expression, parse_library

__all__ = ["parse_expression", "parse_library"]
