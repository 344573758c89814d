"""List operators (CQL 1.5 §9.14) and the list forms of the set operators."""

from __future__ import annotations

from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.comparison import equal, equivalent
from cds.cql.operators.registry import operator


def distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if any(item is seen or _same(item, seen) for seen in out):
            continue
        out.append(item)
    return out


def _same(a: Any, b: Any) -> bool:
    if a is None and b is None:
        return True
    r = equal(a, b)
    return r is True


def contains(items: Any, element: Any) -> bool | None:
    if items is None:
        return False if element is not None else None
    if element is None:
        return any(i is None for i in items)
    if type(element) is str:  # the common case: strings compare by value, nothing to promote
        for i in items:
            if type(i) is str:
                if i == element:
                    return True
            elif i is not None and equal(i, element) is True:
                return True
        return False
    return any(equal(i, element) is True for i in items)


@operator("Exists")
def Exists(items: Any) -> bool:
    if items is None:
        return False
    if isinstance(items, list):
        return any(i is not None for i in items)
    return True


@operator("First")
def First(items: Any) -> Any:
    return items[0] if items else None


@operator("Last")
def Last(items: Any) -> Any:
    return items[-1] if items else None


@operator("Flatten")
def Flatten(items: Any) -> Any:
    if items is None:
        return None
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


@operator("Distinct")
def Distinct(items: Any) -> Any:
    return None if items is None else distinct(items)


@operator("SingletonFrom")
def SingletonFrom(items: Any) -> Any:
    if not items:
        return None
    if len(items) > 1:
        raise CqlRuntimeError("SingletonFrom: the list has more than one element")
    return items[0]


@operator("IndexOf")
def IndexOf(items: Any, element: Any) -> Any:
    if items is None or element is None:
        return None
    for i, item in enumerate(items):
        if equal(item, element) is True:
            return i
    return -1


@operator("Skip")
def Skip(items: Any, n: Any) -> Any:
    if items is None:
        return None
    return list(items) if n is None else list(items[max(n, 0) :])


@operator("Take")
def Take(items: Any, n: Any) -> Any:
    if items is None:
        return None
    return [] if n is None else list(items[: max(n, 0)])


@operator("Tail")
def Tail(items: Any) -> Any:
    return None if items is None else list(items[1:])


@operator("Slice")
def Slice(items: Any, start: Any = None, end: Any = None) -> Any:
    """The elements from index ``start`` (default the first) up to before ``end`` (default past
    the last); a negative index counts from the end, as the CQL 2.0 suite's Slice tests do."""
    if items is None:
        return None
    return list(items[(0 if start is None else start) : end])


@operator("Descendents")
def Descendents(source: Any) -> Any:
    """Every element below ``source`` (a FHIR resource or element, or a Tuple), depth first,
    lists flattened and nulls left out (FHIRPath ``descendants()``); null for null."""
    if source is None:
        return None
    from cds.cql.model import fhir_model
    from cds.cql.runtime.fhir import FhirNode

    out: list[Any] = []

    def visit(value: Any) -> None:
        children: list[Any] = []
        if isinstance(value, FhirNode):
            for key in value.data:
                if key == "resourceType" or key.startswith("_"):
                    continue
                choice = fhir_model.choice_element(value.type_name, key)
                child = value.get(key if choice is None else choice[0])
                children.extend(child if isinstance(child, list) else [child])
        elif isinstance(value, dict):
            for child in value.values():
                children.extend(child if isinstance(child, list) else [child])
        for child in children:
            if child is not None:
                out.append(child)
                visit(child)

    for item in source if isinstance(source, list) else [source]:
        if item is not None:
            visit(item)
    return out


def list_union(a: Any, b: Any) -> Any:
    if a is None and b is None:
        return None
    return distinct(list(a or []) + list(b or []))


def list_intersect(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return distinct([x for x in a if contains(b, x)])


def list_except(a: Any, b: Any) -> Any:
    if a is None:
        return None
    if b is None:
        return distinct(list(a))
    return distinct([x for x in a if not contains(b, x)])


def list_includes(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return all(contains(a, x) for x in b)


def list_equivalent_in(items: Any, element: Any) -> bool:
    return any(equivalent(i, element) for i in items or [])
