"""Queries (cql.g4 ``query``): aliased sources, ``let``, ``with``/``without ... such that``,
``where``, ``return [all|distinct]``, ``aggregate``, ``sort [by]``; a query starts wherever a
query source is followed by an alias, or with ``from``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cds.cql.syntax import ast
from cds.cql.syntax.cursor import RESERVED, Cursor
from cds.cql.syntax.lexer import Token


class QueryParser:
    c: Cursor

    if TYPE_CHECKING:  # provided by the other parts of ExpressionParser (not stubs at run time)

        def expression(self) -> ast.Expr: ...

        def term_expression(self) -> ast.Expr: ...

        def primary(self) -> tuple[ast.Expr, bool]: ...

        def member_name(self) -> str: ...

    def _at_alias(self, token: Token | None = None) -> bool:
        token = token or self.c.tok
        if token.kind in ("qident", "bident"):
            return True
        return token.kind == "ident" and token.text not in RESERVED and not token.text.startswith("$")

    def query(self, first: ast.Expr, start: Token) -> ast.Query:
        alias_tok = self.c.advance()
        sources = [ast.AliasedSource(start.line, start.column, first, alias_tok.value)]
        return self.query_clauses(sources, start)

    def from_query(self) -> ast.Query:
        start = self.c.expect_word("from")
        sources = [self._aliased_source()]
        while self.c.accept_op(","):
            sources.append(self._aliased_source())
        return self.query_clauses(sources, start)

    def _aliased_source(self) -> ast.AliasedSource:
        tok = self.c.tok
        expr, source_like = self.primary()
        if not source_like:
            raise self.c.fail(
                "a query source is a retrieve, a (qualified) name or a parenthesized expression"
            )
        while self.c.at_op("."):
            if tok.is_op("(", "["):
                raise self.c.fail(
                    "a query source is a retrieve, a (qualified) name or a parenthesized expression:"
                    " parenthesize the whole source, as in ((X).element) A"
                )
            self.c.advance()
            name_tok = self.c.tok
            expr = ast.Member(name_tok.line, name_tok.column, expr, self.member_name())
        if not self._at_alias():
            raise self.c.fail(f"expected an alias but found {self.c.describe(self.c.tok)}")
        return ast.AliasedSource(tok.line, tok.column, expr, self.c.advance().value)

    def query_clauses(self, sources: list[ast.AliasedSource], start: Token) -> ast.Query:
        query = ast.Query(start.line, start.column, sources)
        if self.c.at_word("let"):
            self.c.advance()
            while True:
                name_tok = self.c.tok
                name = self.c.expect_declared_name("a let name")
                self.c.expect_op(":")
                query.lets.append(ast.LetClause(name_tok.line, name_tok.column, name, self.expression()))
                if not self.c.accept_op(","):
                    break
        while self.c.at_word("with", "without"):
            kind = self.c.advance()
            source = self._aliased_source()
            self.c.expect_word("such")
            self.c.expect_word("that")
            query.inclusions.append(
                ast.Inclusion(kind.line, kind.column, kind.text, source, self.expression())
            )
        if self.c.accept_word("where"):
            query.where = self.expression()
        if self.c.at_word("return"):
            self.c.advance()
            query.return_all = self.c.accept_word("all") is not None
            query.return_distinct = not query.return_all and self.c.accept_word("distinct") is not None
            query.return_ = self.expression()
        elif self.c.at_word("aggregate"):
            tok = self.c.advance()
            distinct = self.c.accept_word("distinct") is not None
            if not distinct:
                self.c.accept_word("all")
            name = self.c.expect_identifier("an aggregate name")
            starting = None
            if self.c.accept_word("starting"):
                starting = self.term_expression() if not self.c.at_op("(") else self.term_expression()
            self.c.expect_op(":")
            query.aggregate = ast.Aggregate(tok.line, tok.column, name, self.expression(), starting, distinct)
        if self.c.at_word("sort"):
            self.c.advance()
            query.sort = []
            if self.c.accept_word("by"):
                while True:
                    item_tok = self.c.tok
                    expr = self.term_expression()
                    descending = self._direction()
                    query.sort.append(ast.SortItem(item_tok.line, item_tok.column, expr, descending))
                    if not self.c.accept_op(","):
                        break
            else:
                tok = self.c.tok
                query.sort.append(ast.SortItem(tok.line, tok.column, None, self._direction()))
        return query

    def _direction(self) -> bool:
        word = self.c.accept_word("asc", "ascending", "desc", "descending")
        return word is not None and word.text.startswith("desc")
