"""Safe rendering of a card's ``detail`` Markdown: the text is HTML-escaped FIRST, then a small
allow-listed subset is turned into tags: paragraphs, line breaks, ``**bold**``, ``*italic*``,
`` `code` ``, pipe tables and ``[label](https://...)`` links (http and https only). Nothing of
the input can become a tag or an attribute that the subset does not make."""

from __future__ import annotations

import re
from html import escape

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
# After escaping, a URL's '&' is '&amp;' and quotes are entities: the href cannot break out.
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s()<>\"']+)\)")


def _inline(escaped: str) -> str:
    parts = _CODE.split(escaped)  # odd indexes are code spans: no further markup inside them
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
            continue
        part = _LINK.sub(r'<a href="\2" rel="noopener noreferrer">\1</a>', part)
        part = _BOLD.sub(r"<strong>\1</strong>", part)
        part = _ITALIC.sub(r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


def _table(lines: list[str]) -> str:
    head = "".join(f'<th scope="col">{_inline(c)}</th>' for c in _cells(lines[0]))
    rows = "".join(
        "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(line)) + "</tr>" for line in lines[2:]
    )
    return f'<table class="md"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def render(markdown: str) -> str:
    """HTML for ``markdown`` (escaped, then the allow-listed subset)."""
    blocks = re.split(r"\n\s*\n", escape(markdown.replace("\r\n", "\n"), quote=True).strip())
    out = []
    for block in blocks:
        lines = block.split("\n")
        if len(lines) >= 2 and lines[0].lstrip().startswith("|") and _is_rule(lines[1]):
            out.append(_table(lines))
        elif block:
            out.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return "".join(out)
