"""The Inferno Da Vinci CRD server suite's rules on a response (issue 19), worded as the kit
words its findings: ``cards_validation.rb``, ``service_response_validation_test.rb``,
``card_optional_fields_validation_test.rb``, ``coverage_information_system_action_validation_test.rb``
and the CRD 2.0.1 coverage-information profile it validates against. Each function returns the
list of findings (empty: the kit passes). Used by ``test_inferno_kit.py``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cds.coverage_information import EXTENSION_URL
from cds.fhirpath import compiled

from .hook_shapes import orders_of

PRIMARY = {"order-sign", "order-dispatch"}  # CRD hook categories; the kit wants systemActions on these


def _valid_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def card_rules(card: dict[str, Any]) -> list[str]:
    """cards_validation.rb: required fields, summary length, indicator, source, and the optional
    fields (card_optional_fields_validation_test.rb)."""
    errors = []
    for field, kind in (("summary", str), ("indicator", str), ("source", dict)):
        if not card.get(field):
            errors.append(f"Card does not contain required field `{field}`")
        elif not isinstance(card[field], kind):
            errors.append(f"Card field `{field}` is not of type `{kind.__name__}`")
    if isinstance(card.get("summary"), str) and len(card["summary"]) >= 140:
        errors.append("`summary` is over the 140-character limit")
    if card.get("indicator") not in ("info", "warning", "critical"):
        errors.append(
            f"`indicator` is `{card.get('indicator')}`. Allowed values are `info`, `warning`, `critical`"
        )
    source = card.get("source") if isinstance(card.get("source"), dict) else {}
    assert isinstance(source, dict)
    if not isinstance(source.get("label"), str) or not source.get("label"):
        errors.append("Source does not contain required field `label`")
    topic = source.get("topic")
    if not isinstance(topic, dict):
        errors.append("Source does not contain required field `topic`")
    else:
        for field in ("code", "system"):
            if not isinstance(topic.get(field), str) or not topic.get(field):
                errors.append(f"Source topic does not contain required field `{field}`")
    for field, kind in (
        ("uuid", str),
        ("detail", str),
        ("suggestions", list),
        ("overrideReasons", list),
        ("links", list),
    ):
        if card.get(field) is not None and not isinstance(card[field], kind):
            errors.append(f"Card field `{field}` is not of type `{kind.__name__}`")
    if card.get("suggestions") and card.get("selectionBehavior") not in ("at-most-one", "any"):
        errors.append("`Card.selectionBehavior` must be provided if suggestions are present")
    for reason in card.get("overrideReasons") or []:
        for field in ("code", "system", "display"):
            if not isinstance(reason.get(field), str) or not reason.get(field):
                errors.append(f"OverrideReason Coding does not contain required field `{field}`")
    for link in card.get("links") or []:
        for field in ("label", "type"):
            if not isinstance(link.get(field), str) or not link.get(field):
                errors.append(f"Link does not contain required field `{field}`")
        if not _valid_url(link.get("url")):
            errors.append(f"Link field `url` is not a valid URL: `{link.get('url')}`")
        if link.get("type") not in ("absolute", "smart"):
            errors.append(f"`Link.type` must be `absolute` or `smart`. Got `{link.get('type')}`")
        if link.get("type") == "absolute" and link.get("appContext"):
            errors.append("`appContext` field should only be valued if the link type is smart")
    return errors


CODED = ("covered", "pa-needed", "doc-needed", "doc-purpose", "info-needed")
SLICES = frozenset(
    {
        *CODED,
        "coverage",
        "date",
        "coverage-assertion-id",
        "satisfied-pa-id",
        "billingCode",
        "reason",
        "detail",
        "questionnaire",
        "response",
        "contact",
        "dependency",
        "expiry-date",
    }
)
REQUIRED_SLICES = ("coverage", "covered", "date", "coverage-assertion-id")
# CRD 2.0.1 invariants as published (StructureDefinition ext-coverage-information). q2's left
# operand is a collection, which FHIRPath's singleton evaluation reads as a Boolean; fhirpathpy
# does not apply that rule, so it is written out as exists().
INVARIANTS = {
    "crd-ci-q1": "extension.where(url='questionnaire' or url='response').exists() implies "
    "(extension.where(url = 'doc-needed').exists() and extension.where(url = 'doc-needed').all(value != 'no-doc'))",
    "crd-ci-q2": "extension.where(url = 'covered' and value != 'not-covered').exists() implies "
    "extension.where(url = 'pa-needed').exists()",
    "crd-ci-q3": "extension.where(url = 'info-needed').exists() implies extension.where((url = 'covered' or "
    "url = 'pa-needed' or url = 'doc-needed') and value = 'conditional').count() >= 1",
    "crd-ci-q5": "extension.where(url = 'pa-needed' and value = 'satisfied').exists() = "
    "extension.where(url = 'satisfied-pa-id').exists()",
}
_INVARIANTS = {
    name: compiled(f"extension.where(url = '{EXTENSION_URL}').all({e})") for name, e in INVARIANTS.items()
}


def coverage_information_rules(resource: dict[str, Any]) -> list[str]:
    """coverage_information_system_action_validation_test.rb and the profile it validates against:
    slice names, value types, required sub-extensions, invariants, and multi-extension
    consistency (same coverage: one assertion id; different coverages: distinct ids)."""
    ref = f"{resource.get('resourceType')}/{resource.get('id')}"
    errors = []
    extensions = [e for e in resource.get("extension") or [] if e.get("url") == EXTENSION_URL]
    if not extensions:
        errors.append(f"{ref}: no coverage-information extension")
    by_coverage: dict[str, list[dict[str, Any]]] = {}
    for ext in extensions:
        if any(key.startswith("value") for key in ext):
            errors.append(f"{ref}: the coverage-information extension has a value (it is complex)")
        subs = ext.get("extension") or []
        for sub in subs:
            url = sub.get("url")
            values = [k for k in sub if k.startswith("value")]
            if not isinstance(url, str) or url.startswith("http") or url not in SLICES:
                errors.append(f"{ref}: sub-extension url `{url}` is not a slice name of the extension")
            elif url in CODED and values != ["valueCode"]:
                errors.append(f"{ref}: sub-extension `{url}` must be valueCode, not {values}")
            elif url == "billingCode" and values != ["valueCoding"]:
                errors.append(f"{ref}: sub-extension `billingCode` must be valueCoding, not {values}")
        for name in REQUIRED_SLICES:
            if sum(1 for s in subs if s.get("url") == name) != 1:
                errors.append(f"{ref}: sub-extension `{name}` must appear exactly once")
        coverage = next(
            (s.get("valueReference", {}).get("reference") for s in subs if s.get("url") == "coverage"), None
        )
        by_coverage.setdefault(str(coverage), []).append(ext)
    for name, check in _INVARIANTS.items():
        if check(resource) != [True]:
            errors.append(f"{ref}: invariant {name} failed: {INVARIANTS[name]}")
    seen_ids: set[str] = set()
    for coverage, group in by_coverage.items():
        ids = {
            s.get("valueString")
            for e in group
            for s in e.get("extension") or []
            if s.get("url") == "coverage-assertion-id"
        }
        if len(ids) != 1:
            errors.append(
                f"{ref}: extension has multiple repetitions of coverage `{coverage}` with different coverage-assertion-ids."
            )
        if ids & seen_ids:
            errors.append(
                f"{ref}: extensions referencing differing coverage SHALL have distinct coverage-assertion-ids."
            )
        seen_ids |= {i for i in ids if isinstance(i, str)}
    return errors


def echoed_order_rules(resource: dict[str, Any], sent: dict[str, Any], hook: str) -> list[str]:
    """The order an update action returns is the order sent, plus the coverage information: what
    the CRD order profiles require is kept (status draft on order-sign and order-select)."""
    ref = f"{resource.get('resourceType')}/{resource.get('id')}"
    errors = []
    if hook != "order-dispatch" and resource.get("status") != "draft":
        errors.append(f"{ref}: the echoed order's status is `{resource.get('status')}`, not draft")
    for element in ("status", "intent", "subject", "code", "authoredOn", "requester"):
        if element not in resource:
            errors.append(f"{ref}: the echoed order has no `{element}` (required by the CRD order profile)")
        elif resource[element] != sent.get(element):
            errors.append(f"{ref}: the echoed order's `{element}` differs from the order sent")
    if {k: v for k, v in resource.items() if k != "extension"} != {
        k: v for k, v in sent.items() if k != "extension"
    }:
        errors.append(f"{ref}: the echoed order differs from the order sent beyond its extensions")
    return errors


def response_rules(body: Any, hook: str, request: dict[str, Any]) -> list[str]:
    """service_response_validation_test.rb and the coverage-information tests on one response."""
    if not isinstance(body, dict):
        return ["Invalid JSON: server response is not a JSON object"]
    errors = []
    cards, actions = body.get("cards"), body.get("systemActions")
    if cards is None:
        errors.append("Server response did not have the `cards` field.")
    elif not isinstance(cards, list):
        errors.append("`cards` field of server response is not an array.")
    else:
        for card in cards:
            errors += card_rules(card)
    if hook in PRIMARY and actions is None:
        errors.append(
            f"Server response did not have the `systemActions` field, which must be present for the `'{hook}' hook."
        )
    if actions is not None and not isinstance(actions, list):
        errors.append("`systemActions` of server response is not an array.")
    sent = {f"{o['resourceType']}/{o.get('id')}": o for o in orders_of(request_orders(request))}
    for action in actions or []:
        for field in ("type", "description"):
            if not isinstance(action.get(field), str) or not action.get(field):
                errors.append(f"Action does not contain required field `{field}`")
        if action.get("type") not in ("create", "update", "delete"):
            errors.append(f"Action type value `{action.get('type')}` is not allowed.")
            continue
        resource = action.get("resource")
        if action["type"] in ("create", "update") and not isinstance(resource, dict):
            errors.append(f"`Action.resource` must be present for `{action['type']}` actions")
            continue
        if action["type"] != "update" or not any(
            e.get("url") == EXTENSION_URL for e in resource.get("extension") or []
        ):
            continue
        ref = f"{resource.get('resourceType')}/{resource.get('id')}"
        if ref not in sent:
            errors.append(f"Resource being updated must be from the `draftOrders` entry. {ref} is not")
            continue
        errors += coverage_information_rules(resource)
        errors += echoed_order_rules(resource, sent[ref], hook)
        if hook not in PRIMARY:
            asked = [
                s.get("url")
                for e in resource["extension"]
                if e.get("url") == EXTENSION_URL
                for s in e.get("extension") or []
                if s.get("url") in ("doc-needed", "questionnaire")
            ]
            if asked:
                errors.append(
                    f"{ref}: coverage information on a secondary hook asks for documentation ({asked}; CRD hook-19)"
                )
    return errors


def request_orders(request: dict[str, Any]) -> dict[str, Any]:
    """An order-sign-like view of any of the three requests: its orders under draftOrders."""
    if "draftOrders" in request["context"]:
        return request
    resources = [
        r
        for v in (request.get("prefetch") or {}).values()
        if isinstance(v, dict)
        for r in ([e["resource"] for e in v.get("entry", [])] if v.get("resourceType") == "Bundle" else [v])
    ]
    return {
        "context": {
            "draftOrders": {
                "entry": [{"resource": r} for r in resources if r.get("resourceType") == "ServiceRequest"]
            }
        }
    }
