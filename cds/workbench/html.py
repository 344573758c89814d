"""Small HTML rendering helpers: every value passes through ``escape`` (autoescape by construction)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.25rem .5rem;text-align:left}"
    ".card{border:1px solid #666;padding:.5rem 1rem;margin:.5rem 0}"
)


def text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{text(title)} - dli-cds workbench</title><style>{STYLE}</style></head>"
        f'<body><nav><a href="/workbench/">Examples</a> | <a href="/workbench/activity">Activity</a></nav>'
        f"<main><h1>{text(title)}</h1>{body}</main></body></html>"
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    """``rows`` hold already-rendered cells (pass values through ``text``)."""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def card(c: dict[str, Any]) -> str:
    detail = text(c.get("detail", ""))
    links = "".join(
        f"<li>{text(link.get('label'))}: <code>{text(link.get('url'))}</code></li>"
        for link in c.get("links", [])
        if isinstance(link, dict)
    )
    return (
        f'<section class="card"><h2>{text(c.get("summary"))}</h2>'
        f"<p>Indicator: <strong>{text(c.get('indicator'))}</strong></p>"
        f'<pre style="white-space:pre-wrap">{detail}</pre>'
        + (f"<ul>{links}</ul>" if links else "")
        + "</section>"
    )
