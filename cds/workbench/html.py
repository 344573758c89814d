"""The workbench's page frame and small HTML helpers: every value passes through ``text``
(escaping by construction); callers pass already-rendered HTML only where a helper says so."""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote

NAV = (
    ("/workbench/", "Examples"),
    ("/workbench/try", "Try a case"),
    ("/workbench/form", "The form"),
    ("/workbench/policy", "The policy"),
    ("/workbench/activity", "Activity"),
)


def text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def slug(value: str) -> str:
    """An HTML id from a name (CQL define names, criterion labels)."""
    out = "".join(c.lower() if c.isalnum() else "-" for c in value)
    return "-".join(part for part in out.split("-") if part)


def url_part(value: str) -> str:
    return quote(value, safe="")


def page(title: str, body: str, *, current: str = "") -> str:
    """A whole page; ``body`` is rendered HTML. The stylesheet and script ship in the package
    (``cds/workbench/static``); nothing is loaded from the network."""
    here = ' aria-current="page"'
    nav = " ".join(f'<a href="{href}"{here if href == current else ""}>{label}</a>' for href, label in NAV)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)} - dli-cds workbench</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/workbench/static/workbench.css">'
        '<script src="/workbench/static/workbench.js" defer></script></head>'
        f'<body><header><p class="brand">dli-cds policy workbench</p><nav aria-label="Workbench">{nav}</nav></header>'
        f"<main><h1>{text(title)}</h1>{body}</main></body></html>"
    )


def table(headers: list[str], rows: list[list[str]], *, caption: str = "", cls: str = "") -> str:
    """``rows`` hold already-rendered cells (pass values through ``text``)."""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    klass = f' class="{text(cls)}"' if cls else ""
    return f"<table{klass}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def json_block(value: Any) -> str:
    return f"<pre class=\"json\" tabindex=\"0\">{text(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


def resource_details(resource: dict[str, Any]) -> str:
    """A resource, closed: its reference, opening to its JSON (``<details>``: no script needed)."""
    ref = f"{resource.get('resourceType')}/{resource.get('id')}"
    return f"<details class=\"resource\"><summary>{text(ref)}</summary>{json_block(resource)}</details>"


def status_badge(status: str) -> str:
    return f'<span class="status status-{slug(status)}">{text(status)}</span>'
