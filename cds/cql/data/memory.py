"""An in-memory :class:`~cds.cql.data.retriever.Retriever` over the FHIR resources of one
request (one patient's record).

Resources are indexed by type once (Bundles are flattened, recursively); an index from
``(system, code)`` to resources is built lazily per ``(type, code path)`` the first time a
retrieve filters on explicit codes. Value-set filters ask the terminology provider.
Retrieves keep the order of the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cds.cql.data.retriever import normalise_type
from cds.cql.errors import CqlRuntimeError
from cds.cql.model import fhir_model
from cds.cql.runtime.clinical import Code, Concept, ValueSetRef
from cds.cql.runtime.fhir import FhirNode, to_system
from cds.cql.terminology.provider import TerminologyError, TerminologyProvider

CodeKey = tuple[str | None, str]


class InMemoryRetriever:
    def __init__(
        self, resources: Iterable[dict[str, Any] | FhirNode], terminology: TerminologyProvider | None = None
    ) -> None:
        self.terminology = terminology
        self._by_type: dict[str, list[FhirNode]] = {}
        for res in resources:
            self._add(res)
        self._code_index: dict[tuple[str, str], dict[CodeKey, list[int]]] = {}

    def _add(self, res: dict[str, Any] | FhirNode) -> None:
        node = res if isinstance(res, FhirNode) else None
        data = node.data if node is not None else res
        if not isinstance(data, dict):
            raise CqlRuntimeError("a FHIR resource must be a JSON object")
        if data.get("resourceType") == "Bundle":
            for entry in data.get("entry") or []:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    self._add(entry["resource"])
            return
        node = node or FhirNode.of_resource(data)
        self._by_type.setdefault(node.type_name, []).append(node)

    def with_terminology(self, terminology: TerminologyProvider | None) -> InMemoryRetriever:
        """This retriever using ``terminology`` when it has none of its own."""
        if self.terminology is None:
            self.terminology = terminology
        return self

    def resources(self, data_type: str) -> list[FhirNode]:
        return list(self._by_type.get(normalise_type(data_type), ()))

    def patient(self) -> FhirNode | None:
        """The record's only Patient (None without one); several Patients is an error."""
        patients = self._by_type.get("Patient", [])
        if len(patients) > 1:
            raise CqlRuntimeError(f"the data hold {len(patients)} Patient resources; expected one")
        return patients[0] if patients else None

    def retrieve(
        self,
        data_type: str,
        *,
        code_path: str | None = None,
        codes: Iterable[Code] | None = None,
        valueset: ValueSetRef | None = None,
        date_path: str | None = None,
        date_range: Any = None,
        context_type: str | None = None,
        context_value: Any = None,
    ) -> list[FhirNode]:
        rtype = normalise_type(data_type)
        nodes = self._by_type.get(rtype, [])
        if codes is not None or valueset is not None:
            path = code_path or fhir_model.primary_code_path(rtype)
            if path is None:
                raise CqlRuntimeError(f"{rtype} has no primary code path; the retrieve must name one")
            if codes is not None:
                nodes = self._by_codes(rtype, path, list(codes))
            if valueset is not None:
                nodes = [n for n in nodes if self._in_valueset(n, path, valueset)]
        if date_range is not None:
            if date_path is None:
                raise CqlRuntimeError(f"a date-filtered retrieve of {rtype} needs a date path")
            nodes = [n for n in nodes if _in_range(_read_path(n, date_path), date_range)]
        return list(nodes)

    def _by_codes(self, rtype: str, path: str, codes: list[Code]) -> list[FhirNode]:
        index = self._code_index.get((rtype, path))
        nodes = self._by_type.get(rtype, [])
        if index is None:
            index = {}
            for i, node in enumerate(nodes):
                for key in _code_keys(_read_path(node, path)):
                    bucket = index.setdefault(key, [])
                    if not bucket or bucket[-1] != i:
                        bucket.append(i)
            self._code_index[(rtype, path)] = index
        hits: set[int] = set()
        for c in codes:
            if c.code is not None:
                hits.update(index.get((c.system, c.code), ()))
        return [nodes[i] for i in sorted(hits)]

    def _in_valueset(self, node: FhirNode, path: str, valueset: ValueSetRef) -> bool:
        if self.terminology is None:
            raise TerminologyError(f"retrieve by value set {valueset.canonical!r} without a terminology")
        value = to_system(_read_path(node, path))
        return self.terminology.in_valueset(value, valueset)


def _read_path(node: FhirNode, path: str) -> Any:
    """The value at a dotted path, flattening repeating elements into one list."""
    current: list[Any] = [node]
    for step in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, FhirNode):
                value = item.get(step)
                if isinstance(value, list):
                    nxt.extend(value)
                elif value is not None:
                    nxt.append(value)
        current = nxt
    return current[0] if len(current) == 1 else (current or None)


def _code_keys(value: Any) -> Iterable[CodeKey]:
    if value is None:
        return
    if isinstance(value, list):
        for v in value:
            yield from _code_keys(v)
        return
    converted = to_system(value)
    if isinstance(converted, Code) and converted.code is not None:
        yield (converted.system, converted.code)
    elif isinstance(converted, Concept):
        for c in converted.codes:
            if c.code is not None:
                yield (c.system, c.code)
    elif isinstance(converted, str):
        yield (None, converted)


def _in_range(value: Any, date_range: Any) -> bool:
    """The value (a date/dateTime or an Interval from a Period) lies in / overlaps the range."""
    from cds.cql.operators.registry import lookup

    value = to_system(value)
    if value is None or isinstance(value, list):
        return False
    op = lookup("Overlaps" if type(value).__name__ == "Interval" else "In")
    if op is None:
        raise CqlRuntimeError("date-filtered retrieve needs the interval operators")
    return op(value, date_range) is True
