"""CDS Hooks cards as an EHR shows them (summary, indicator colour, source, detail Markdown
rendered safely, links, override reasons, suggestions) and the CRD coverage-information
extension of each system action as a readable table."""

from __future__ import annotations

from typing import Any

from cds.coverage_information import EXTENSION_URL
from cds.workbench.html import table, text
from cds.workbench.markdown import render

INDICATORS = {"info": "Info", "warning": "Warning", "critical": "Critical"}


def _href(url: Any) -> str | None:
    """Only absolute http(s) links become links; anything else is shown as text."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _link(label: Any, url: Any) -> str:
    href = _href(url)
    if href is None:
        return f"{text(label)} <code>{text(url)}</code>"
    return f'<a href="{text(href)}" rel="noopener noreferrer">{text(label)}</a>'


def card(c: dict[str, Any]) -> str:
    indicator = c.get("indicator") if c.get("indicator") in INDICATORS else "info"
    source = c.get("source") if isinstance(c.get("source"), dict) else {}
    parts = [
        f'<article class="card card-{indicator}" aria-label="Card: {text(c.get("summary"))}">',
        f'<p class="indicator">{INDICATORS[str(indicator)]}</p>',
        f'<h3 class="summary">{text(c.get("summary"))}</h3>',
    ]
    if source:
        parts.append(f'<p class="source">Source: {_link(source.get("label"), source.get("url"))}</p>')
    if isinstance(c.get("detail"), str):
        parts.append(f'<div class="detail">{render(c["detail"])}</div>')
    links = [link for link in c.get("links") or [] if isinstance(link, dict)]
    if links:
        items = "".join(f"<li>{_link(link.get('label'), link.get('url'))}</li>" for link in links)
        parts.append(f'<h4>Links</h4><ul class="links">{items}</ul>')
    suggestions = [s for s in c.get("suggestions") or [] if isinstance(s, dict)]
    if suggestions:
        items = "".join(f"<li>{text(s.get('label'))}</li>" for s in suggestions)
        parts.append(f"<h4>Suggestions</h4><ul>{items}</ul>")
    reasons = [r for r in c.get("overrideReasons") or [] if isinstance(r, dict)]
    if reasons:
        items = "".join(f"<li>{text(r.get('display') or r.get('code'))}</li>" for r in reasons)
        parts.append(f'<h4>Override reasons</h4><ul class="override">{items}</ul>')
    parts.append("</article>")
    return "".join(parts)


def _value(ext: dict[str, Any]) -> str:
    for key, value in ext.items():
        if not key.startswith("value"):
            continue
        if isinstance(value, dict):
            return text(value.get("reference") or value.get("text") or value.get("display") or value)
        return text(value)
    return ""


def coverage_table(actions: list[dict[str, Any]]) -> str:
    """One table per system action carrying the CRD coverage-information extension."""
    out = []
    for action in actions:
        found = action.get("resource")
        resource: dict[str, Any] = found if isinstance(found, dict) else {}
        ref = f"{resource.get('resourceType')}/{resource.get('id')}"
        for ext in resource.get("extension") or []:
            if not isinstance(ext, dict) or ext.get("url") != EXTENSION_URL:
                continue
            rows = [
                [f"<code>{text(sub.get('url'))}</code>", _value(sub)]
                for sub in ext.get("extension") or []
                if isinstance(sub, dict)
            ]
            caption = f"Coverage information on {ref} ({action.get('type')})"
            out.append(table(["Element", "Value"], rows, caption=caption, cls="coverage"))
    return "".join(out) or "<p>No coverage-information system action.</p>"


def cards(response: dict[str, Any]) -> str:
    items = [c for c in response.get("cards") or [] if isinstance(c, dict)]
    return "".join(card(c) for c in items) or "<p>No cards.</p>"
