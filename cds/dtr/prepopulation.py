"""The draft QuestionnaireResponse of a DTR package, and its prepopulation by our engine.

The questionnaire's items name a define of ``cql/DLIPrepopulation.cql`` in their
``initialExpression`` (``text/cql-identifier``). A DTR app runs the library's ELM on the EHR
record and fills each item from its define; :class:`Prepopulator` does the same with our engine
(``dli-cds dtr prepopulate``), so both can be compared. Answers the payer fills carry the DTR
``information-origin`` extension with source ``auto-server``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from cds.cql.api import Library, load_library
from cds.cql.terminology.folder import FolderTerminology

DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/"
INITIAL_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression"
PREPOPULATION_FILE = "DLIPrepopulation.cql"
_ANSWER_TYPES = {"boolean": "valueBoolean", "integer": "valueInteger", "decimal": "valueDecimal"}


def items(questionnaire_items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item at any depth, depth first."""
    for item in questionnaire_items:
        yield item
        yield from items(item.get("item", []))


def initial_define(item: dict[str, Any]) -> str | None:
    """The define an item's ``initialExpression`` names (``"Library"."Define"`` → ``Define``)."""
    for ext in item.get("extension", []):
        if ext.get("url") == INITIAL_EXPRESSION:
            expression = ext["valueExpression"]
            if expression.get("language") == "text/cql-identifier":
                name: str = expression["expression"].rsplit(".", 1)[-1]
                return name.strip('"')
    return None


def enabled(item: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Whether an item's ``enableWhen`` (operator ``=``, boolean answers) holds for ``answers``."""
    conditions = item.get("enableWhen", [])
    if not conditions:
        return True
    held = [answers.get(c["question"]) == c.get("answerBoolean") for c in conditions]
    return all(held) if item.get("enableBehavior", "any") == "all" else any(held)


def fill(questionnaire: dict[str, Any], values: dict[str, Any], origin: str | None) -> list[dict[str, Any]]:
    """The response items of ``questionnaire`` with ``values`` (by linkId) as answers; items the
    questionnaire's ``enableWhen`` disables, and null values, get no answer."""
    answers = {k: v for k, v in values.items() if v is not None}

    def build(q_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for q in q_items:
            if not enabled(q, answers):
                continue
            r: dict[str, Any] = {"linkId": q["linkId"], "text": q.get("text", "")}
            if q.get("type") == "group":
                r["item"] = build(q.get("item", []))
                if not r["item"]:
                    continue
            elif q["linkId"] in answers:
                answer: dict[str, Any] = {
                    _ANSWER_TYPES[q["type"]]: _json_value(answers[q["linkId"]], q["type"])
                }
                if origin is not None:
                    answer["extension"] = [
                        {
                            "url": DTR + "information-origin",
                            "extension": [{"url": "source", "valueCode": origin}],
                        }
                    ]
                r["answer"] = [answer]
            else:
                continue
            out.append(r)
        return out

    return build(questionnaire.get("item", []))


def _json_value(value: Any, item_type: str) -> Any:
    if item_type == "decimal":
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if item_type == "integer":
        return int(value)
    return bool(value)


def draft_response(
    questionnaire: dict[str, Any],
    *,
    patient: str | None,
    coverage: str | None,
    orders: list[str],
    now: dt.datetime,
    values: dict[str, Any] | None = None,
    response_id: str = "draft",
) -> dict[str, Any]:
    """The initial in-progress response (DTR §oper-18): the questionnaire's ``url|version``, the
    subject, and the coverage and order(s) it documents as context extensions."""
    extensions = [{"url": DTR + "qr-context", "valueReference": {"reference": ref}} for ref in orders]
    if coverage:
        extensions.insert(0, {"url": DTR + "qr-coverage", "valueReference": {"reference": coverage}})
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "meta": {"profile": [DTR + "dtr-questionnaireresponse|2.1.0"]},
        "extension": extensions,
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "in-progress",
        "authored": now.isoformat().replace("+00:00", "Z"),
    }
    if not extensions:
        del qr["extension"]
    if patient:
        qr["subject"] = {"reference": patient}
    qr["item"] = fill(questionnaire, values or {}, "auto-server")
    return qr


class Prepopulator:
    """The prepopulation library on our engine (loaded and compiled once)."""

    def __init__(self, cql_dir: Path, terminology: FolderTerminology | None = None) -> None:
        self.library: Library = load_library(
            cql_dir / PREPOPULATION_FILE,
            library_dirs=[cql_dir],
            terminology=terminology or FolderTerminology(cql_dir / "valuesets"),
        )

    def values(
        self,
        questionnaire: dict[str, Any],
        record: list[dict[str, Any]],
        order: dict[str, Any] | None,
        orders: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
    ) -> dict[str, Any]:
        """Each item's value (by linkId) from its initialExpression's define; None: unknown."""
        result = self.library.evaluate(
            record,
            parameters={"Order": order, "Draft Orders": orders, "Questionnaire URL": questionnaire_url},
            now=now,
        )
        values: dict[str, Any] = {}
        for item in items(questionnaire.get("item", [])):
            define = initial_define(item)
            if define is not None:
                values[item["linkId"]] = copy.copy(result[define])
        return values

    def draft_for_request(
        self, questionnaire: dict[str, Any], request: Any, now: dt.datetime, questionnaire_url: str
    ) -> dict[str, Any]:
        """The draft QuestionnaireResponse for an order-sign request's first draft
        ServiceRequest, its record read from the prefetch as the hook reads it. Raises
        ServiceError for a request the hook would refuse, ValueError for one without a
        ServiceRequest, CqlRuntimeError for a record the library cannot be run on."""
        from cds.decision_core import merge
        from cds.discovery import PREFETCH
        from cds.hooks import parse_order_sign
        from cds.prefetch import read_prefetch

        hook = parse_order_sign(request, "order-sign")
        orders = [o for o in hook.orders if o.get("resourceType") == "ServiceRequest"]
        if not orders:
            raise ValueError("the request's draftOrders hold no ServiceRequest")
        record = merge(read_prefetch(hook, PREFETCH).resources)
        values = self.values(questionnaire, record, orders[0], orders, now, questionnaire_url)
        return draft_response(
            questionnaire,
            patient=f"Patient/{hook.patient_id}",
            coverage=None,
            orders=[f"ServiceRequest/{orders[0].get('id')}"],
            now=now,
            values=values,
        )
