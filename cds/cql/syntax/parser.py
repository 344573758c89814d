"""The CQL parser: library declarations, with recovery so that every syntax error is reported.

``parse_library(text, source_name)`` returns an :class:`~cds.cql.syntax.declarations.Library` or raises
:class:`~cds.cql.errors.CqlLoadError` listing every :class:`~cds.cql.errors.CqlSyntaxError`
(library name, line, column). After an error the parser skips to the next top-level
declaration keyword and goes on. ``parse_expression(text)`` parses a single expression.
"""

from __future__ import annotations

from cds.cql.errors import CqlLoadError
from cds.cql.syntax import ast, declarations
from cds.cql.syntax.cursor import Cursor, ParseAbort
from cds.cql.syntax.expressions import ExpressionParser
from cds.cql.syntax.lexer import Token, tokenize

_TOP_LEVEL = frozenset(
    {
        "library",
        "using",
        "include",
        "codesystem",
        "valueset",
        "code",
        "concept",
        "parameter",
        "context",
        "define",
        "public",
        "private",
    }
)


def _library_name(tokens: list[Token]) -> str | None:
    if len(tokens) > 1 and tokens[0].is_word("library") and tokens[1].kind in ("ident", "qident", "bident"):
        return tokens[1].value
    return None


def parse_library(text: str, source_name: str | None = None) -> declarations.Library:
    tokens = tokenize(text)
    cursor = Cursor(tokens, _library_name(tokens) or source_name)
    parser = _LibraryParser(cursor)
    library = parser.library()
    if cursor.errors:
        raise CqlLoadError(list(cursor.errors))
    return library


def parse_expression(text: str) -> ast.Expr:
    cursor = Cursor(tokenize(text), None)
    parser = ExpressionParser(cursor)
    try:
        expr = parser.expression()
        if cursor.tok.kind != "eof":
            raise cursor.fail(f"unexpected {cursor.describe(cursor.tok)} after the expression")
    except ParseAbort:
        pass
    if cursor.errors:
        raise CqlLoadError(list(cursor.errors))
    return expr


class _LibraryParser(ExpressionParser):
    def __init__(self, cursor: Cursor) -> None:
        super().__init__(cursor)
        self.context = "Unfiltered"

    def library(self) -> declarations.Library:
        first = self.c.tok
        lib = declarations.Library(first.line, first.column, None, None)
        if self.c.at_word("library"):
            self._guard(lambda: self._library_header(lib))
        while self.c.tok.kind != "eof":
            start = self.c.pos
            self._guard(lambda: self._declaration(lib))
            if self.c.pos == start:  # nothing consumed: skip the token to guarantee progress
                self.c.advance()
        return lib

    def _guard(self, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except ParseAbort:
            self._recover()

    def _recover(self) -> None:
        if self._at_top_level():
            return  # the error was found at the start of the next declaration: parse it
        self.c.advance()
        while self.c.tok.kind != "eof":
            if self._at_top_level():
                return
            self.c.advance()

    def _library_header(self, lib: declarations.Library) -> None:
        self.c.expect_word("library")
        lib.name = self.c.expect_identifier("a library name")
        if self.c.accept_word("version"):
            lib.version = self.c.expect_string()

    def _declaration(self, lib: declarations.Library) -> None:
        tok = self.c.tok
        if tok.is_word("using"):
            self.c.advance()
            model = self.c.expect_identifier("a model name")
            version = self.c.expect_string() if self.c.accept_word("version") else None
            lib.usings.append(declarations.UsingDef(tok.line, tok.column, model, version))
            return
        if tok.is_word("include"):
            self.c.advance()
            name = self._qualified_name()
            version = self.c.expect_string() if self.c.accept_word("version") else None
            alias = self.c.expect_identifier("an alias") if self.c.accept_word("called") else name
            lib.includes.append(declarations.IncludeDef(tok.line, tok.column, name, version, alias))
            return
        if tok.is_word("context"):
            self.c.advance()
            name = self.c.expect_identifier("a context name")
            self.context = name
            lib.contexts.append(declarations.ContextDef(tok.line, tok.column, name))
            return
        access = "public"
        if self.c.at_word("public", "private"):
            access = self.c.advance().text
        tok = self.c.tok
        word = tok.text if tok.kind == "ident" else ""
        if word == "codesystem":
            self.c.advance()
            name = self.c.expect_declared_name(f"a {word} name")
            self.c.expect_op(":")
            url = self.c.expect_string()
            version = self.c.expect_string() if self.c.accept_word("version") else None
            lib.codesystems.append(
                declarations.CodeSystemDef(tok.line, tok.column, name, url, version, access)
            )
        elif word == "valueset":
            self.c.advance()
            name = self.c.expect_declared_name(f"a {word} name")
            self.c.expect_op(":")
            url = self.c.expect_string()
            version = self.c.expect_string() if self.c.accept_word("version") else None
            systems: list[str] = []
            if self.c.accept_word("codesystems"):
                self.c.expect_op("{")
                systems.append(self._qualified_name())
                while self.c.accept_op(","):
                    systems.append(self._qualified_name())
                self.c.expect_op("}")
            lib.valuesets.append(
                declarations.ValueSetDef(tok.line, tok.column, name, url, version, systems, access)
            )
        elif word == "code" and not self.c.peek().is_op("("):
            self.c.advance()
            name = self.c.expect_declared_name(f"a {word} name")
            self.c.expect_op(":")
            code = self.c.expect_string()
            self.c.expect_word("from")
            system = self._qualified_name()
            display = self.c.expect_string() if self.c.accept_word("display") else None
            lib.codes.append(declarations.CodeDef(tok.line, tok.column, name, code, system, display, access))
        elif word == "concept":
            self.c.advance()
            name = self.c.expect_declared_name(f"a {word} name")
            self.c.expect_op(":")
            self.c.expect_op("{")
            codes = [self._qualified_name()]
            while self.c.accept_op(","):
                codes.append(self._qualified_name())
            self.c.expect_op("}")
            display = self.c.expect_string() if self.c.accept_word("display") else None
            lib.concepts.append(declarations.ConceptDef(tok.line, tok.column, name, codes, display, access))
        elif word == "parameter":
            self.c.advance()
            name = self.c.expect_declared_name("a parameter name")
            type_spec = None
            if not self.c.at_word("default") and self.c.tok.kind != "eof" and not self._at_top_level():
                type_spec = self.type_specifier()
            default = self.expression() if self.c.accept_word("default") else None
            lib.parameters.append(
                declarations.ParameterDef(tok.line, tok.column, name, type_spec, default, access)
            )
        elif word == "define":
            self.c.advance()
            self._define(lib, access, tok)
        else:
            raise self.c.fail(f"expected a declaration but found {self.c.describe(tok)}")

    def _at_top_level(self) -> bool:
        tok = self.c.tok
        return (
            tok.kind == "ident"
            and tok.text in _TOP_LEVEL
            and (tok.text not in ("code", "concept") or tok.column == 1)
        )

    def _qualified_name(self) -> str:
        name = self.c.expect_identifier()
        while self.c.at_op(".") and self.c.is_identifier(self.c.peek()):
            self.c.advance()
            name += "." + self.c.advance().value
        return name

    def _define(self, lib: declarations.Library, access: str, start: Token) -> None:
        if self.c.at_word("public", "private") and (
            self.c.peek().kind in ("qident", "bident")
            or self.c.peek().is_word("fluent", "function")
            or self.c.is_identifier(self.c.peek())
        ):
            access = self.c.advance().text
        fluent = self.c.accept_word("fluent") is not None
        if self.c.at_word("function"):
            self.c.advance()
            name_tok = self.c.tok
            if name_tok.kind not in ("ident", "qident", "bident"):
                raise self.c.fail(f"expected a function name but found {self.c.describe(name_tok)}")
            name = self.c.advance().value
            self.c.expect_op("(")
            operands: list[declarations.OperandDef] = []
            if not self.c.accept_op(")"):
                while True:
                    op_tok = self.c.tok
                    op_name = self.c.expect_identifier("an operand name")
                    operands.append(
                        declarations.OperandDef(op_tok.line, op_tok.column, op_name, self.type_specifier())
                    )
                    if not self.c.accept_op(","):
                        break
                self.c.expect_op(")")
            return_type = self.type_specifier() if self.c.accept_word("returns") else None
            self.c.expect_op(":")
            body = None if self.c.accept_word("external") else self.expression()
            lib.functions.append(
                declarations.FunctionDef(
                    start.line, start.column, name, operands, return_type, body, self.context, fluent, access
                )
            )
            return
        if fluent:
            raise self.c.fail("expected 'function' after 'fluent'")
        name = self.c.expect_declared_name("a definition name")
        self.c.expect_op(":")
        expr = self.expression()
        lib.expressions.append(
            declarations.ExpressionDef(start.line, start.column, name, expr, self.context, access)
        )
        if self.c.tok.kind != "eof" and not self._at_top_level():
            raise self.c.fail(f"unexpected {self.c.describe(self.c.tok)} after the definition of {name!r}")
