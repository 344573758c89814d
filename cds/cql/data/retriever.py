"""The data access interface of the engine: one method, the CQL Retrieve (ELM ``Retrieve``).

A retrieve ``[Condition: "GvHD Acute"]`` asks for the resources of one type, optionally
filtered by a terminology (explicit codes or a value set) on a code path, and by a date range on
a date path. The engine evaluates in one patient's context, so every resource a retriever
returns belongs to that patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from cds.cql.runtime.clinical import Code, ValueSetRef
from cds.cql.runtime.fhir import FhirNode


@runtime_checkable
class Retriever(Protocol):
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
        """The resources of ``data_type`` (FHIR type name, ``FHIR.`` prefix allowed).

        With ``codes`` or ``valueset``, only resources whose element at ``code_path`` (dotted;
        the type's primary code path when None) has a code among ``codes`` (same system and
        code) or in the value set. With ``date_range`` (an Interval), only resources whose
        element at ``date_path`` (a date/dateTime or Period) falls in it. ``context_type`` /
        ``context_value`` name the evaluation context (``"Patient"`` and the patient node).
        """
        ...

    def patient(self) -> FhirNode | None:
        """The patient the data belong to (the context value of ``context Patient``)."""
        ...


def normalise_type(data_type: str) -> str:
    """``FHIR.Condition`` / ``{http://hl7.org/fhir}Condition`` → ``Condition``."""
    if data_type.startswith("{"):
        data_type = data_type.split("}", 1)[1]
    return data_type.removeprefix("FHIR.")
