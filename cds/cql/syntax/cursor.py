"""The token cursor shared by the parser modules: look-ahead, expectations, error reporting."""

from __future__ import annotations

from cds.cql.errors import CqlSyntaxError, SourceLocation
from cds.cql.runtime.values import CALENDAR_WORDS
from cds.cql.syntax.lexer import Token

# Words that never name an identifier (they always play their keyword role).
RESERVED = frozenset(
    {
        "on",
        "less",
        "more",
        "than",
        "starting",
        "returns",
        "external",
        "after",
        "aggregate",
        "all",
        "and",
        "as",
        "asc",
        "ascending",
        "before",
        "between",
        "by",
        "called",
        "case",
        "cast",
        "codesystem",
        "codesystems",
        "collapse",
        "concept",
        "contains",
        "context",
        "convert",
        "day",
        "days",
        "default",
        "define",
        "desc",
        "descending",
        "difference",
        "distinct",
        "div",
        "duration",
        "during",
        "else",
        "end",
        "ends",
        "except",
        "exists",
        "expand",
        "false",
        "flatten",
        "from",
        "function",
        "hour",
        "hours",
        "if",
        "implies",
        "in",
        "include",
        "includes",
        "included",
        "intersect",
        "is",
        "let",
        "library",
        "maximum",
        "meets",
        "millisecond",
        "milliseconds",
        "minimum",
        "minute",
        "minutes",
        "mod",
        "month",
        "months",
        "not",
        "null",
        "occurs",
        "of",
        "or",
        "overlaps",
        "parameter",
        "per",
        "predecessor",
        "private",
        "properly",
        "public",
        "return",
        "same",
        "second",
        "seconds",
        "singleton",
        "sort",
        "start",
        "starts",
        "such",
        "successor",
        "that",
        "then",
        "to",
        "true",
        "union",
        "using",
        "valueset",
        "week",
        "weeks",
        "when",
        "where",
        "width",
        "with",
        "within",
        "without",
        "xor",
        "year",
        "years",
    }
)
# Keywords that may still be used as identifiers (the grammar's keywordIdentifier and
# obsoleteIdentifier sets, plus names used as FHIR element and function names).
SOFT = frozenset(
    {
        "all",
        "asc",
        "ascending",
        "by",
        "code",
        "collapse",
        "concept",
        "contains",
        "convert",
        "date",
        "day",
        "days",
        "desc",
        "descending",
        "display",
        "distinct",
        "end",
        "expand",
        "flatten",
        "hour",
        "hours",
        "id",
        "millisecond",
        "milliseconds",
        "minimum",
        "maximum",
        "minute",
        "minutes",
        "month",
        "months",
        "occurs",
        "point",
        "predecessor",
        "second",
        "seconds",
        "singleton",
        "start",
        "status",
        "successor",
        "time",
        "timezoneoffset",
        "value",
        "version",
        "week",
        "weeks",
        "width",
        "year",
        "years",
        "Code",
        "Concept",
        "List",
        "Interval",
        "Tuple",
        "Choice",
        "size",
    }
)
# SOFT names that are no CQL keyword at all (FHIR element and function names).
NOT_KEYWORDS = frozenset({"id", "status", "value", "size"})
PRECISIONS = CALENDAR_WORDS


class ParseAbort(Exception):
    """Raised to abandon the current declaration after an error was recorded."""


class Cursor:
    def __init__(self, tokens: list[Token], library_name: str | None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.library_name = library_name
        self.errors: list[CqlSyntaxError] = []

    # -- look-ahead ---------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        index = min(self.pos + offset, len(self.tokens) - 1)
        return self.tokens[index]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.tok.is_word(*words)

    def at_op(self, *ops: str) -> bool:
        return self.tok.is_op(*ops)

    def accept_word(self, *words: str) -> Token | None:
        if self.tok.is_word(*words):
            return self.advance()
        return None

    def accept_op(self, *ops: str) -> Token | None:
        if self.tok.is_op(*ops):
            return self.advance()
        return None

    def words_ahead(self, *words: str) -> bool:
        return all(self.peek(i).is_word(w) for i, w in enumerate(words))

    # -- expectations ---------------------------------------------------------------------
    def location(self, token: Token | None = None) -> SourceLocation:
        token = token or self.tok
        return SourceLocation(self.library_name, token.line, token.column)

    def fail(self, message: str, token: Token | None = None) -> ParseAbort:
        token = token or self.tok
        if token.kind == "error":
            message = token.value
        self.errors.append(CqlSyntaxError(message, self.location(token)))
        return ParseAbort()

    def describe(self, token: Token) -> str:
        return "end of text" if token.kind == "eof" else repr(token.text)

    def expect_op(self, op: str) -> Token:
        if self.tok.is_op(op):
            return self.advance()
        raise self.fail(f"expected {op!r} but found {self.describe(self.tok)}")

    def expect_word(self, word: str) -> Token:
        if self.tok.is_word(word):
            return self.advance()
        raise self.fail(f"expected {word!r} but found {self.describe(self.tok)}")

    def expect_string(self) -> str:
        if self.tok.kind == "string":
            return self.advance().value
        raise self.fail(f"expected a string but found {self.describe(self.tok)}")

    def is_identifier(self, token: Token | None = None) -> bool:
        token = token or self.tok
        if token.kind in ("qident", "bident"):
            return True
        return token.kind == "ident" and (token.text not in RESERVED or token.text in SOFT)

    def expect_identifier(self, what: str = "an identifier") -> str:
        if self.is_identifier():
            return self.advance().value
        raise self.fail(f"expected {what} but found {self.describe(self.tok)}")

    def expect_declared_name(self, what: str) -> str:
        """A name a declaration introduces (cql.g4 ``identifier``: a parameter, definition,
        code, concept, code system, value set or let name): a quoted name or a word that is no
        CQL keyword. ``parameter second`` is refused as the reference translator refuses it;
        ``parameter "second"`` is fine."""
        tok = self.tok
        if tok.kind in ("qident", "bident") or (
            tok.kind == "ident"
            and tok.text not in RESERVED
            and (tok.text not in SOFT or tok.text in NOT_KEYWORDS)
        ):
            return self.advance().value
        if tok.kind == "ident" and not tok.text.startswith("$"):
            raise self.fail(f'expected {what} but found the keyword {tok.text!r} (quote it: "{tok.text}")')
        raise self.fail(f"expected {what} but found {self.describe(tok)}")

    def expect_word_any(self, *words: str) -> str:
        if self.tok.is_word(*words):
            return self.advance().text
        raise self.fail(f"expected {' or '.join(repr(w) for w in words)} but found {self.describe(self.tok)}")
