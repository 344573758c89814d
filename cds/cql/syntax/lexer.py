"""The CQL lexer: one compiled master expression over the whole text, tokens with positions.

Token kinds: ``ident`` (plain identifiers and keywords alike: the parser decides, so soft
keywords work as identifiers), ``qident`` ("quoted"), ``bident`` (`backtick`), ``string``,
``number`` (integer or decimal text), ``long`` (``1L``), ``date``/``datetime``/``time`` (``@``
literals, text without the ``@``), ``op`` (punctuation and symbolic operators), ``eof``.
Unterminated strings and stray characters become ``error`` tokens that the parser reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f]+)
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<qident>"(?:[^"\\]|\\.)*")
  | (?P<bident>`(?:[^`\\]|\\.)*`)
  | (?P<time>@T[0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?)
  | (?P<datetime>@[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?T(?:[0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?)?
        (?:Z|[+-][0-9]{2}:[0-9]{2})?)
  | (?P<date>@[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?P<longsuffix>L)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*|\$[A-Za-z]+)
  | (?P<op><=|>=|!=|!~|->|[()\[\]{},.:+\-*/^&|=~<>])
  | (?P<unterminated>['"`])
  | (?P<error>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    line: int
    column: int
    value: str = ""

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops


_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "n": "\n", "t": "\t", "f": "\f", "r": "\r"}


def unescape(body: str) -> str:
    """The value of a string or quoted identifier body (without its quotes)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 5 < len(body) + 0 and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "error"
        if kind == "longsuffix":
            kind = "number"
        start = match.start()
        raw = match.group()
        column = start - line_start + 1
        if kind in ("ws", "lcomment", "bcomment"):
            pass
        elif kind == "number":
            if raw.endswith("L"):
                tokens.append(Token("long", raw, line, column, raw[:-1]))
            else:
                tokens.append(Token("number", raw, line, column, raw))
        elif kind in ("string", "qident", "bident"):
            tokens.append(Token(kind, raw, line, column, unescape(raw[1:-1])))
        elif kind in ("date", "datetime", "time"):
            tokens.append(Token(kind, raw, line, column, raw[1:]))
        elif kind == "unterminated":
            tokens.append(Token("error", raw, line, column, f"unterminated {raw} literal"))
        elif kind == "error":
            tokens.append(Token("error", raw, line, column, f"unexpected character {raw!r}"))
        else:
            tokens.append(Token(kind, raw, line, column, raw))
        newlines = raw.count("\n")
        if newlines:
            line += newlines
            line_start = start + raw.rfind("\n") + 1
    end_col = len(text) - line_start + 1
    tokens.append(Token("eof", "", line, end_col, ""))
    return tokens
