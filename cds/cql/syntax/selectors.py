"""Terms: literals, identifiers and calls, selectors (list, interval, tuple, instance, code,
concept), retrieves, parenthesised expressions, and type specifiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cds.cql.syntax import ast
from cds.cql.syntax.cursor import PRECISIONS, Cursor

if TYPE_CHECKING:
    from cds.cql.syntax.lexer import Token


class SelectorParser:
    c: Cursor

    # Provided by ExpressionParser.
    def expression(self) -> ast.Expr:
        raise NotImplementedError

    def term_expression(self) -> ast.Expr:
        raise NotImplementedError

    def arguments(self) -> list[ast.Expr]:
        raise NotImplementedError

    def from_query(self) -> ast.Query:
        raise NotImplementedError

    # ------------------------------------------------------------------ terms
    def primary(self) -> tuple[ast.Expr, bool]:
        """A term, and whether it may be a query source (so an alias may follow)."""
        tok = self.c.tok
        kind = tok.kind
        if kind == "number":
            return self._number(), False
        if kind == "long":
            self.c.advance()
            return ast.Literal(tok.line, tok.column, "long", tok.value), False
        if kind == "string":
            self.c.advance()
            return ast.Literal(tok.line, tok.column, "string", tok.value), False
        if kind in ("date", "datetime", "time"):
            self.c.advance()
            return ast.Literal(tok.line, tok.column, kind, tok.value), False
        if kind == "op":
            if tok.text == "(":
                self.c.advance()
                expr = self.expression()
                self.c.expect_op(")")
                return expr, True
            if tok.text == "[":
                return self._retrieve(), True
            if tok.text == "{":
                return self._brace_selector(None), False
            raise self.c.fail(f"expected an expression but found {self.c.describe(tok)}")
        if kind in ("qident", "bident"):
            self.c.advance()
            if self.c.at_op("("):
                return ast.Call(tok.line, tok.column, tok.value, self.arguments()), False
            return ast.Identifier(tok.line, tok.column, tok.value), True
        if kind != "ident":
            raise self.c.fail(f"expected an expression but found {self.c.describe(tok)}")
        word = tok.text
        nxt = self.c.peek()
        if word in ("true", "false"):
            self.c.advance()
            return ast.Literal(tok.line, tok.column, "boolean", word == "true"), False
        if word == "null":
            self.c.advance()
            return ast.Literal(tok.line, tok.column, "null", None), False
        if word == "from":
            return self.from_query(), False
        if word == "Interval" and nxt.is_op("[", "("):
            return self._interval(), False
        if word == "Tuple" and nxt.is_op("{"):
            self.c.advance()
            return self._brace_selector(None, force_tuple=True), False
        if word == "List" and nxt.is_op("<", "{"):
            self.c.advance()
            element = None
            if self.c.accept_op("<"):
                element = self.type_specifier()
                self.c.expect_op(">")
            return self._brace_selector(element, force_list=True), False
        if word == "Code" and nxt.kind == "string":
            return self.code_selector(), False
        if word == "Concept" and nxt.is_op("{") and not self._instance_follows(1):
            return self._concept(), False
        if word.startswith("$"):
            self.c.advance()
            return ast.Identifier(tok.line, tok.column, word), False
        if not self.c.is_identifier(tok):
            raise self.c.fail(f"expected an expression but found {self.c.describe(tok)}")
        self.c.advance()
        if self.c.at_op("("):
            return ast.Call(tok.line, tok.column, tok.value, self.arguments()), False
        if self.c.at_op("{") and self._instance_follows(lower_case=not word[0].isupper()):
            # Lower-case names are FHIR primitive types (`string { value: x }`): only with elements.
            named = ast.NamedType(tok.line, tok.column, None, word)
            return ast.InstanceSelector(tok.line, tok.column, named, self._elements()), False
        if (
            self.c.at_op(".")
            and self.c.peek().kind == "ident"
            and self.c.peek(2).is_op("{")
            and word[0].isupper()
            and (self.c.peek().text[0].isupper() or self._instance_follows(2, lower_case=True))
        ):
            self.c.advance()
            name = self.c.advance()
            if self._instance_follows():
                named = ast.NamedType(tok.line, tok.column, word, name.value)
                return ast.InstanceSelector(tok.line, tok.column, named, self._elements()), False
            raise self.c.fail("expected an instance selector")
        return ast.Identifier(tok.line, tok.column, tok.value), True

    def _instance_follows(self, offset: int = 0, *, lower_case: bool = False) -> bool:
        # `Name { element: ... }` or `Name { }` (an instance), never `Name {1, 2}`; after a
        # lower-case name only the first form.
        first, second = self.c.peek(offset + 1), self.c.peek(offset + 2)
        if first.is_op("}"):
            return not lower_case
        return self.c.is_identifier(first) and second.is_op(":")

    def _number(self) -> ast.Expr:
        tok = self.c.advance()
        unit_tok = self.c.tok
        quantity: ast.QuantityLit | None = None
        if unit_tok.kind == "string":
            self.c.advance()
            quantity = ast.QuantityLit(tok.line, tok.column, tok.value, unit_tok.value)
        elif unit_tok.kind == "ident" and unit_tok.text in PRECISIONS:
            self.c.advance()
            quantity = ast.QuantityLit(tok.line, tok.column, tok.value, unit_tok.text)
        if quantity is None:
            if self.c.at_op(":") and self.c.peek().kind == "number":
                numerator = ast.QuantityLit(tok.line, tok.column, tok.value, "1")
                return self._ratio(numerator)
            kind = "decimal" if "." in tok.value else "integer"
            return ast.Literal(tok.line, tok.column, kind, tok.value)
        if self.c.at_op(":") and self.c.peek().kind == "number":
            return self._ratio(quantity)
        return quantity

    def _ratio(self, numerator: ast.QuantityLit) -> ast.RatioLit:
        self.c.expect_op(":")
        tok = self.c.advance()
        unit = "1"
        if self.c.tok.kind == "string":
            unit = self.c.advance().value
        denominator = ast.QuantityLit(tok.line, tok.column, tok.value, unit)
        return ast.RatioLit(numerator.line, numerator.column, numerator, denominator)

    def _interval(self) -> ast.IntervalSelector:
        tok = self.c.advance()
        low_closed = self.c.advance().text == "["
        low = self.expression()
        self.c.expect_op(",")
        high = self.expression()
        close = self.c.tok
        if not close.is_op("]", ")"):
            raise self.c.fail(f"expected ']' or ')' but found {self.c.describe(close)}")
        self.c.advance()
        return ast.IntervalSelector(tok.line, tok.column, low, high, low_closed, close.text == "]")

    def _brace_selector(
        self, element: ast.TypeSpec | None, force_tuple: bool = False, force_list: bool = False
    ) -> ast.Expr:
        tok = self.c.tok
        is_tuple = force_tuple or (
            not force_list
            and (
                self.c.peek().is_op(":")
                or (self.c.is_identifier(self.c.peek()) and self.c.peek(2).is_op(":"))
            )
        )
        if is_tuple:
            return ast.TupleSelector(tok.line, tok.column, self._elements())
        self.c.expect_op("{")
        items: list[ast.Expr] = []
        if not self.c.accept_op("}"):
            items.append(self.expression())
            while self.c.accept_op(","):
                items.append(self.expression())
            self.c.expect_op("}")
        return ast.ListSelector(tok.line, tok.column, element, items)

    def _elements(self) -> list[tuple[str, ast.Expr]]:
        self.c.expect_op("{")
        elements: list[tuple[str, ast.Expr]] = []
        if self.c.accept_op(":"):
            self.c.expect_op("}")
            return elements
        if self.c.accept_op("}"):
            return elements
        while True:
            name = self.c.expect_identifier("an element name")
            self.c.expect_op(":")
            elements.append((name, self.expression()))
            if not self.c.accept_op(","):
                break
        self.c.expect_op("}")
        return elements

    def code_selector(self) -> ast.CodeSelector:
        tok = self.c.expect_word("Code")
        code = self.c.expect_string()
        self.c.expect_word("from")
        system = self._qualified_reference()
        display = self.c.expect_string() if self.c.accept_word("display") else None
        return ast.CodeSelector(tok.line, tok.column, code, system, display)

    def _concept(self) -> ast.ConceptSelector:
        tok = self.c.expect_word("Concept")
        self.c.expect_op("{")
        codes = [self.code_selector()]
        while self.c.accept_op(","):
            codes.append(self.code_selector())
        self.c.expect_op("}")
        display = self.c.expect_string() if self.c.accept_word("display") else None
        return ast.ConceptSelector(tok.line, tok.column, codes, display)

    def _qualified_reference(self) -> ast.Expr:
        tok = self.c.tok
        name = self.c.expect_identifier()
        expr: ast.Expr = ast.Identifier(tok.line, tok.column, name)
        while self.c.at_op(".") and self.c.is_identifier(self.c.peek()):
            self.c.advance()
            member = self.c.advance()
            expr = ast.Member(member.line, member.column, expr, member.value)
        return expr

    def _retrieve(self) -> ast.Retrieve:
        tok = self.c.expect_op("[")
        context = None
        if self.c.is_identifier() and self.c.peek().is_op("->"):
            context = self.c.advance().value
            self.c.advance()
        named = self.named_type()
        retrieve = ast.Retrieve(tok.line, tok.column, named, context=context)
        if self.c.accept_op(":"):
            if self.c.is_identifier() and (self.c.peek().is_word("in") or self.c.peek().is_op("=", "~")):
                retrieve.code_path = self.c.advance().value
                retrieve.comparator = self.c.advance().text
            retrieve.terminology = self.expression()
        self.c.expect_op("]")
        return retrieve

    # ------------------------------------------------------------------ type specifiers
    def type_specifier(self) -> ast.TypeSpec:
        tok = self.c.tok
        if tok.is_word("List") and self.c.peek().is_op("<"):
            self.c.advance(), self.c.advance()
            element = self.type_specifier()
            self._close_angle()
            return ast.ListType(tok.line, tok.column, element)
        if tok.is_word("Interval") and self.c.peek().is_op("<"):
            self.c.advance(), self.c.advance()
            point = self.type_specifier()
            self._close_angle()
            return ast.IntervalType(tok.line, tok.column, point)
        if tok.is_word("Choice") and self.c.peek().is_op("<"):
            self.c.advance(), self.c.advance()
            choices = [self.type_specifier()]
            while self.c.accept_op(","):
                choices.append(self.type_specifier())
            self._close_angle()
            return ast.ChoiceType(tok.line, tok.column, choices)
        if tok.is_word("Tuple") and self.c.peek().is_op("{"):
            self.c.advance(), self.c.advance()
            elements: list[tuple[str, ast.TypeSpec]] = []
            if not self.c.accept_op("}"):
                while True:
                    name = self.c.expect_identifier("an element name")
                    elements.append((name, self.type_specifier()))
                    if not self.c.accept_op(","):
                        break
                self.c.expect_op("}")
            return ast.TupleType(tok.line, tok.column, elements)
        return self.named_type()

    def _close_angle(self) -> None:
        self.c.expect_op(">")

    def named_type(self) -> ast.NamedType:
        tok: Token = self.c.tok
        if tok.kind not in ("ident", "qident", "bident"):
            raise self.c.fail(f"expected a type name but found {self.c.describe(tok)}")
        self.c.advance()
        if self.c.at_op(".") and self.c.peek().kind in ("ident", "qident", "bident"):
            self.c.advance()
            name = self.c.advance()
            return ast.NamedType(tok.line, tok.column, tok.value, name.value)
        return ast.NamedType(tok.line, tok.column, None, tok.value)
