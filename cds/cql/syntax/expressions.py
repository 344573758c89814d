"""Expressions: precedence climbing over the levels of the CQL grammar.

From the lowest precedence to the highest (cql.g4's ``expression`` alternatives, read in
reverse): set operators (``|`` union intersect except), implies, or/xor, and, membership
(in/contains), equality, timing phrases, inequality, between forms, not/exists, type
operators (is/as, is null) — then the expressionTerm levels: + - &, * / div mod, ^, prefix
forms (polarity, ``start of``, ``successor of`` ...), postfix (member, call, indexer), terms.
Queries start wherever a query source is followed by an alias.
"""

from __future__ import annotations

from cds.cql.syntax import ast
from cds.cql.syntax.cursor import PRECISIONS, Cursor
from cds.cql.syntax.queries import QueryParser
from cds.cql.syntax.selectors import SelectorParser
from cds.cql.syntax.timing import TimingParser

PREFIX_OF = {
    "start": "start",
    "end": "end",
    "width": "width",
    "successor": "successor",
    "predecessor": "predecessor",
    "size": "size",
}
PREFIX_FROM = {"singleton": "singleton", "point": "point"}
COMPONENTS = {
    "date": "date",
    "time": "time",
    "timezoneoffset": "timezoneoffset",
    "timezone": "timezoneoffset",
    "year": "component:year",
    "month": "component:month",
    "week": "component:week",
    "day": "component:day",
    "hour": "component:hour",
    "minute": "component:minute",
    "second": "component:second",
    "millisecond": "component:millisecond",
}


class ExpressionParser(QueryParser, SelectorParser, TimingParser):
    def __init__(self, cursor: Cursor) -> None:
        self.c = cursor

    # ------------------------------------------------------------------ binary levels
    def expression(self) -> ast.Expr:
        left = self._implies()
        while True:
            tok = self.c.tok
            if tok.is_op("|") or tok.is_word("union", "intersect", "except"):
                self.c.advance()
                op = "union" if tok.text == "|" else tok.text
                left = ast.Binary(tok.line, tok.column, op, left, self._implies())
            else:
                return left

    def _implies(self) -> ast.Expr:
        left = self._or()
        while (tok := self.c.accept_word("implies")) is not None:
            left = ast.Binary(tok.line, tok.column, "implies", left, self._or())
        return left

    def _or(self) -> ast.Expr:
        left = self._and()
        while (tok := self.c.accept_word("or", "xor")) is not None:
            left = ast.Binary(tok.line, tok.column, tok.text, left, self._and())
        return left

    def _and(self) -> ast.Expr:
        left = self._membership()
        while (tok := self.c.accept_word("and")) is not None:
            left = ast.Binary(tok.line, tok.column, "and", left, self._membership())
        return left

    def _membership(self) -> ast.Expr:
        left = self._equality()
        while self.c.at_word("in", "contains"):
            tok = self.c.advance()
            precision = self._precision_of()
            left = ast.Binary(tok.line, tok.column, tok.text, left, self._equality(), precision)
        return left

    def _equality(self) -> ast.Expr:
        left = self._timing()
        while (tok := self.c.accept_op("=", "!=", "~", "!~")) is not None:
            left = ast.Binary(tok.line, tok.column, tok.text, left, self._timing())
        return left

    def _timing(self) -> ast.Expr:
        left = self._inequality()
        while self.at_timing_phrase():
            left = self.timing_phrase(left, self._inequality)
        return left

    def _inequality(self) -> ast.Expr:
        left = self._between()
        while (tok := self.c.accept_op("<", "<=", ">", ">=")) is not None:
            left = ast.Binary(tok.line, tok.column, tok.text, left, self._between())
        return left

    def _between(self) -> ast.Expr:
        tok = self.c.tok
        if tok.is_word("duration", "difference") and self.c.peek().is_word("in"):
            precision_tok = self.c.peek(2)
            if precision_tok.text in PRECISIONS and self.c.peek(3).is_word("between"):
                self.c.advance(), self.c.advance(), self.c.advance(), self.c.advance()
                low = self.term_expression()
                self.c.expect_word("and")
                high = self.term_expression()
                return ast.DurationBetween(
                    tok.line, tok.column, tok.text, PRECISIONS[precision_tok.text], low, high
                )
        if (
            tok.kind == "ident"
            and tok.text in PRECISIONS
            and tok.text.endswith("s")
            and self.c.peek().is_word("between")
        ):
            self.c.advance(), self.c.advance()
            low = self.term_expression()
            self.c.expect_word("and")
            high = self.term_expression()
            return ast.DurationBetween(tok.line, tok.column, "duration", PRECISIONS[tok.text], low, high)
        left = self._prefix()
        while self.c.at_word("between") or (self.c.at_word("properly") and self.c.peek().is_word("between")):
            start = self.c.tok
            proper = self.c.accept_word("properly") is not None
            self.c.expect_word("between")
            low = self.term_expression()
            self.c.expect_word("and")
            high = self.term_expression()
            left = ast.Between(start.line, start.column, left, low, high, proper)
        return left

    def _prefix(self) -> ast.Expr:
        tok = self.c.tok
        if tok.is_word("not") and not self.c.peek().is_op("("):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, "not", self._prefix())
        if tok.is_word("not"):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, "not", self._type_ops())
        if tok.is_word("exists"):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, "exists", self._prefix())
        if tok.is_word("cast"):
            self.c.advance()
            operand = self.term_expression()
            self.c.expect_word("as")
            return ast.TypeOp(tok.line, tok.column, "cast", operand, self.type_specifier())
        return self._type_ops()

    def _type_ops(self) -> ast.Expr:
        left = self.term_expression()
        while True:
            tok = self.c.tok
            if tok.is_word("is"):
                self.c.advance()
                negated = self.c.accept_word("not") is not None
                word = self.c.accept_word("null", "true", "false")
                if word is not None:
                    op = ("is not " if negated else "is ") + word.text
                    left = ast.Unary(tok.line, tok.column, op, left)
                    continue
                if negated:
                    raise self.c.fail("expected null, true or false after 'is not'")
                left = ast.TypeOp(tok.line, tok.column, "is", left, self.type_specifier())
            elif tok.is_word("as"):
                self.c.advance()
                left = ast.TypeOp(tok.line, tok.column, "as", left, self.type_specifier())
            else:
                return left

    # ------------------------------------------------------------------ expressionTerm levels
    def term_expression(self) -> ast.Expr:
        return self._additive()

    def _additive(self) -> ast.Expr:
        left = self._multiplicative()
        while (tok := self.c.accept_op("+", "-", "&")) is not None:
            left = ast.Binary(tok.line, tok.column, tok.text, left, self._multiplicative())
        return left

    def _multiplicative(self) -> ast.Expr:
        left = self._power()
        while True:
            tok = self.c.tok
            if tok.is_op("*", "/") or tok.is_word("div", "mod"):
                self.c.advance()
                left = ast.Binary(tok.line, tok.column, tok.text, left, self._power())
            else:
                return left

    def _power(self) -> ast.Expr:
        left = self._unary()
        while (tok := self.c.accept_op("^")) is not None:
            left = ast.Binary(tok.line, tok.column, "^", left, self._unary())
        return left

    def _unary(self) -> ast.Expr:
        tok = self.c.tok
        nxt = self.c.peek()
        if tok.is_op("+", "-"):
            self.c.advance()
            operand = self._unary()
            if tok.text == "+":
                return operand
            return ast.Unary(tok.line, tok.column, "negate", operand)
        if tok.kind == "ident" and tok.text in PREFIX_OF and nxt.is_word("of"):
            self.c.advance(), self.c.advance()
            return ast.Unary(tok.line, tok.column, PREFIX_OF[tok.text], self._unary())
        if tok.kind == "ident" and tok.text in PREFIX_FROM and nxt.is_word("from"):
            self.c.advance(), self.c.advance()
            return ast.Unary(tok.line, tok.column, PREFIX_FROM[tok.text], self._unary())
        if tok.kind == "ident" and tok.text in COMPONENTS and nxt.is_word("from"):
            self.c.advance(), self.c.advance()
            return ast.Unary(tok.line, tok.column, COMPONENTS[tok.text], self._unary())
        if tok.is_word("duration", "difference") and nxt.is_word("in") and self.c.peek(3).is_word("of"):
            precision = self.c.peek(2)
            if precision.text in PRECISIONS:
                for _ in range(4):
                    self.c.advance()
                return ast.Unary(
                    tok.line, tok.column, f"{tok.text}:{PRECISIONS[precision.text]}", self._unary()
                )
        if tok.is_word("minimum", "maximum") and not nxt.is_op("("):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, tok.text, None, type_spec=self.named_type())
        if tok.is_word("if"):
            self.c.advance()
            condition = self.expression()
            self.c.expect_word("then")
            then = self.expression()
            self.c.expect_word("else")
            return ast.If(tok.line, tok.column, condition, then, self.expression())
        if tok.is_word("case"):
            return self._case()
        if tok.is_word("distinct", "flatten") and not nxt.is_op("("):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, tok.text, self.expression())
        if tok.is_word("distinct", "flatten"):
            self.c.advance()
            return ast.Unary(tok.line, tok.column, tok.text, self._postfix())
        if tok.is_word("expand", "collapse"):
            self.c.advance()
            operand = self.expression()
            per: ast.Expr | None = None
            if self.c.accept_word("per"):
                if self.c.tok.kind == "ident" and self.c.tok.text in PRECISIONS:
                    unit = self.c.advance()
                    per_unit: ast.Expr = ast.QuantityLit(unit.line, unit.column, "1", PRECISIONS[unit.text])
                    per = per_unit
                else:
                    per = self.expression()
            return ast.Unary(tok.line, tok.column, tok.text, operand, per=per)
        if tok.is_word("convert"):
            self.c.advance()
            operand = self.expression()
            self.c.expect_word("to")
            if self.c.tok.kind == "string":
                return ast.Convert(tok.line, tok.column, operand, None, self.c.advance().value)
            return ast.Convert(tok.line, tok.column, operand, self.type_specifier(), None)
        return self._postfix()

    def _case(self) -> ast.Case:
        tok = self.c.advance()
        comparand = None if self.c.at_word("when") else self.expression()
        items: list[tuple[ast.Expr, ast.Expr]] = []
        while self.c.accept_word("when"):
            when = self.expression()
            self.c.expect_word("then")
            items.append((when, self.expression()))
        if not items:
            raise self.c.fail("expected 'when' in a case expression")
        self.c.expect_word("else")
        otherwise = self.expression()
        self.c.expect_word("end")
        return ast.Case(tok.line, tok.column, comparand, items, otherwise)

    def _postfix(self) -> ast.Expr:
        start = self.c.tok
        expr, source_like = self.primary()
        while True:
            tok = self.c.tok
            if tok.is_op("."):
                self.c.advance()
                name_tok = self.c.tok
                name = self.member_name()
                if self.c.at_op("("):
                    expr = ast.Call(name_tok.line, name_tok.column, name, self.arguments(), source=expr)
                    source_like = False
                else:
                    expr = ast.Member(name_tok.line, name_tok.column, expr, name)
                    # cql.g4 querySource: a member of a retrieve or of a parenthesized
                    # expression is no source ("(X as T).coding C" is refused, as the reference
                    # translator refuses it; "((X as T).coding) C" is the source).
                    source_like = source_like and not start.is_op("(", "[")
            elif tok.is_op("["):
                self.c.advance()
                index = self.expression()
                self.c.expect_op("]")
                expr = ast.Index(tok.line, tok.column, expr, index)
                source_like = False
            else:
                break
        if source_like and self._at_alias():
            return self.query(expr, start)
        return expr

    def member_name(self) -> str:
        tok = self.c.tok
        if tok.kind in ("ident", "qident", "bident"):
            return self.c.advance().value
        raise self.c.fail(f"expected a name after '.' but found {self.c.describe(tok)}")

    def arguments(self) -> list[ast.Expr]:
        self.c.expect_op("(")
        args: list[ast.Expr] = []
        if not self.c.accept_op(")"):
            args.append(self.expression())
            while self.c.accept_op(","):
                args.append(self.expression())
            self.c.expect_op(")")
        return args

    def _precision_of(self) -> str | None:
        tok = self.c.tok
        if tok.kind == "ident" and tok.text in PRECISIONS and self.c.peek().is_word("of"):
            self.c.advance(), self.c.advance()
            return PRECISIONS[tok.text]
        return None
