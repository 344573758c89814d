"""String operators (CQL 1.5 §9.8). Regular expressions follow the spec's (Java-like) dialect,
which Python's ``re`` accepts for the constructs used in practice; ``Matches`` is a whole-string
match."""

from __future__ import annotations

import functools
import re
from functools import lru_cache
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.registry import operator


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise CqlRuntimeError(f"invalid regular expression {pattern!r}: {exc}") from exc


@operator("Concatenate")
def Concatenate(*parts: Any) -> Any:
    if any(p is None for p in parts):
        return None
    return "".join(parts)


@operator("Combine")
def Combine(source: Any, separator: Any = None) -> Any:
    if source is None:
        return None
    items = [s for s in source if s is not None]
    if not items:
        return None  # nothing to combine (null elements are ignored)
    return ("" if separator is None else separator).join(items)


@operator("Split")
def Split(text: Any, separator: Any) -> Any:
    if text is None:
        return None
    if separator is None:
        return [text]
    return text.split(separator)


@operator("SplitOnMatches")
def SplitOnMatches(text: Any, pattern: Any) -> Any:
    if text is None or pattern is None:
        return None
    return _regex(pattern).split(text)


@operator("Length")
def Length(value: Any) -> Any:
    if value is None:
        return None if isinstance(value, str) or value is None else 0
    return len(value)


@operator("Upper")
def Upper(text: Any) -> Any:
    return None if text is None else text.upper()


@operator("Lower")
def Lower(text: Any) -> Any:
    return None if text is None else text.lower()


@operator("Indexer")
def Indexer(source: Any, index: Any) -> Any:
    if source is None or index is None:
        return None
    if index < 0 or index >= len(source):
        return None
    return source[index]


@operator("PositionOf")
def PositionOf(pattern: Any, text: Any) -> Any:
    if pattern is None or text is None:
        return None
    return text.find(pattern)


@operator("LastPositionOf")
def LastPositionOf(pattern: Any, text: Any) -> Any:
    if pattern is None or text is None:
        return None
    return text.rfind(pattern)


@operator("Substring")
def Substring(text: Any, start: Any, length: Any = None) -> Any:
    if text is None or start is None:
        return None
    if start < 0 or start >= len(text):
        return None
    if length is None:
        return text[start:]
    if length < 0:
        return None
    return text[start : start + length]


@operator("StartsWith")
def StartsWith(text: Any, prefix: Any) -> Any:
    if text is None or prefix is None:
        return None
    return text.startswith(prefix)


@operator("EndsWith")
def EndsWith(text: Any, suffix: Any) -> Any:
    if text is None or suffix is None:
        return None
    return text.endswith(suffix)


@operator("Matches")
def Matches(text: Any, pattern: Any) -> Any:
    if text is None or pattern is None:
        return None
    return _regex(pattern).fullmatch(text) is not None


@operator("ReplaceMatches")
def ReplaceMatches(text: Any, pattern: Any, replacement: Any) -> Any:
    if text is None or pattern is None or replacement is None:
        return None
    return _replacer(pattern, replacement)(text)


@lru_cache(maxsize=1024)
def _replacer(pattern: str, replacement: str) -> Any:
    """``text -> text`` with every match of ``pattern`` replaced: the spec's replacement syntax
    ($1 for a group) turned into Python's (\\1) once per pattern and replacement."""
    return functools.partial(_regex(pattern).sub, _python_replacement(replacement))


def _python_replacement(replacement: str) -> str:
    """The spec's replacement syntax (Java's: ``$n`` a group, ``\\x`` the character x itself) in
    Python's ``re.sub`` syntax (``\\g<n>`` a group, backslashes doubled)."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            literal = replacement[i + 1]
            out.append("\\\\" if literal == "\\" else literal)
            i += 2
            continue
        if ch == "$":
            digits = re.match(r"\d+", replacement[i + 1 :])
            if digits:
                out.append(f"\\g<{digits.group()}>")
                i += 1 + len(digits.group())
                continue
        out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)
