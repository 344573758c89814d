"""Timing and interval operator phrases (cql.g4 ``intervalOperatorPhrase``).

``A starts 3 days or less before start of B``, ``A same day as B``, ``A during B``,
``A properly includes B``, ``A within 3 days of B``, ``A meets before B``, ``A overlaps after day
of B``, ``A ends B`` ... become one :class:`~cds.cql.syntax.ast.Timing` node.
"""

from __future__ import annotations

from collections.abc import Callable

from cds.cql.syntax import ast
from cds.cql.syntax.cursor import PRECISIONS, Cursor

_PHRASE_WORDS = frozenset({"same", "includes", "during", "before", "after", "within", "meets", "overlaps"})


class TimingParser:
    c: Cursor

    def _after_boundary_word(self, offset: int) -> bool:
        tok = self.c.peek(offset)
        if tok.kind == "ident" and tok.text in _PHRASE_WORDS:
            return True
        if tok.is_word("properly"):
            return True
        if tok.is_word("included") and self.c.peek(offset + 1).is_word("in"):
            return True
        if tok.is_word("on") and self.c.peek(offset + 1).is_word("or"):
            return True
        if tok.is_word("less", "more") and self.c.peek(offset + 1).is_word("than"):
            return True
        return tok.kind == "number" and self._unit_at(offset + 1)

    def _unit_at(self, offset: int) -> bool:
        tok = self.c.peek(offset)
        return tok.kind == "string" or (tok.kind == "ident" and tok.text in PRECISIONS)

    def at_timing_phrase(self) -> bool:
        tok = self.c.tok
        if tok.is_word("starts", "ends"):
            return True
        if tok.is_word("occurs"):
            return self._after_boundary_word(1)
        return self._after_boundary_word(0)

    def _precision_spec(self) -> str | None:
        tok = self.c.tok
        if tok.kind == "ident" and tok.text in PRECISIONS and self.c.peek().is_word("of"):
            self.c.advance(), self.c.advance()
            return PRECISIONS[tok.text]
        return None

    def _right_boundary(self) -> str | None:
        if self.c.at_word("start", "end") and not self.c.peek().is_word("of"):
            return self.c.advance().text
        return None

    def _quantity(self) -> ast.QuantityLit:
        tok = self.c.tok
        if tok.kind != "number":
            raise self.c.fail(f"expected a quantity but found {self.c.describe(tok)}")
        self.c.advance()
        unit = self.c.tok
        if unit.kind == "string":
            self.c.advance()
            return ast.QuantityLit(tok.line, tok.column, tok.value, unit.value)
        if unit.kind == "ident" and unit.text in PRECISIONS:
            self.c.advance()
            return ast.QuantityLit(tok.line, tok.column, tok.value, unit.text)
        return ast.QuantityLit(tok.line, tok.column, tok.value, "1")

    def timing_phrase(self, left: ast.Expr, operand: Callable[[], ast.Expr]) -> ast.Timing:
        start = self.c.tok
        node = ast.Timing(start.line, start.column, "", left, left)
        if self.c.at_word("starts", "ends", "occurs") and self._after_boundary_word(1):
            word = self.c.advance().text
            node.left_boundary = None if word == "occurs" else word[:-1]
        elif self.c.at_word("starts", "ends"):
            node.kind = self.c.advance().text
            node.precision = self._precision_spec()
            node.right = operand()
            return node
        proper = self.c.accept_word("properly") is not None
        node.proper = proper
        tok = self.c.tok
        if tok.is_word("same"):
            self.c.advance()
            if self.c.tok.kind == "ident" and self.c.tok.text in PRECISIONS:
                node.precision = PRECISIONS[self.c.advance().text]
            node.kind = "same"
            if self.c.accept_word("or"):
                node.relation = "or " + self.c.expect_word_any("before", "after")
            else:
                self.c.expect_word("as")
            node.right_boundary = self._right_boundary()
        elif tok.is_word("includes"):
            self.c.advance()
            node.kind = "includes"
            node.precision = self._precision_spec()
            node.right_boundary = self._right_boundary()
        elif tok.is_word("during") or (tok.is_word("included") and self.c.peek().is_word("in")):
            self.c.advance()
            if tok.text == "included":
                self.c.advance()
            node.kind = "included in"
            node.precision = self._precision_spec()
        elif tok.is_word("within"):
            self.c.advance()
            node.kind = "within"
            node.offset = self._quantity()
            self.c.expect_word("of")
            node.right_boundary = self._right_boundary()
        elif tok.is_word("meets", "overlaps"):
            self.c.advance()
            node.kind = tok.text
            direction = self.c.accept_word("before", "after")
            if direction is not None:
                node.kind += " " + direction.text
            node.precision = self._precision_spec()
        else:
            self._before_or_after(node)
        node.right = operand()
        return node

    def _before_or_after(self, node: ast.Timing) -> None:
        if self.c.at_word("less", "more") and self.c.peek().is_word("than"):
            relation = self.c.advance().text + " than"
            self.c.advance()
            node.offset = self._quantity()
            node.offset_relation = relation
        elif self.c.tok.kind == "number":
            node.offset = self._quantity()
            if self.c.at_word("or") and self.c.peek().is_word("more", "less"):
                self.c.advance()
                node.offset_relation = "or " + self.c.advance().text
        if self.c.at_word("on") and self.c.peek().is_word("or"):
            self.c.advance(), self.c.advance()
            node.inclusive = True
            node.kind = self.c.expect_word_any("before", "after")
        else:
            node.kind = self.c.expect_word_any("before", "after")
            if self.c.at_word("or") and self.c.peek().is_word("on"):
                self.c.advance(), self.c.advance()
                node.inclusive = True
        node.precision = self._precision_spec()
        node.right_boundary = self._right_boundary()
