"""The typed CQL syntax tree produced by the parser.

Every node carries ``line`` and ``column`` (1-based) of its first token. Node kinds (the
library-level declarations are in :mod:`cds.cql.syntax.declarations`):

- type specifiers: :class:`NamedType`, :class:`ListType`, :class:`IntervalType`,
  :class:`TupleType`, :class:`ChoiceType`;
- expressions: :class:`Literal`, :class:`QuantityLit`, :class:`RatioLit`, :class:`Identifier`,
  :class:`Member`, :class:`Call`, :class:`Index`, :class:`Unary`, :class:`Binary`,
  :class:`TypeOp`, :class:`Convert`, :class:`Between`, :class:`DurationBetween`,
  :class:`Timing`, :class:`If`, :class:`Case`, :class:`ListSelector`, :class:`IntervalSelector`,
  :class:`TupleSelector`, :class:`InstanceSelector`, :class:`CodeSelector`,
  :class:`ConceptSelector`, :class:`Retrieve`, :class:`Query` (:class:`AliasedSource`,
  :class:`LetClause`, :class:`Inclusion`, :class:`SortItem`, :class:`Aggregate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Node:
    line: int
    column: int


# ---------------------------------------------------------------------------- types


@dataclass(slots=True)
class NamedType(Node):
    namespace: str | None
    name: str


@dataclass(slots=True)
class ListType(Node):
    element: TypeSpec


@dataclass(slots=True)
class IntervalType(Node):
    point: TypeSpec


@dataclass(slots=True)
class TupleType(Node):
    elements: list[tuple[str, TypeSpec]]


@dataclass(slots=True)
class ChoiceType(Node):
    choices: list[TypeSpec]


TypeSpec = NamedType | ListType | IntervalType | TupleType | ChoiceType


# ---------------------------------------------------------------------------- expressions


@dataclass(slots=True)
class Literal(Node):
    """kind: 'null', 'boolean', 'integer', 'long', 'decimal', 'string', 'date', 'datetime', 'time'."""

    kind: str
    value: object


@dataclass(slots=True)
class QuantityLit(Node):
    value: str  # the decimal text
    unit: str


@dataclass(slots=True)
class RatioLit(Node):
    numerator: QuantityLit
    denominator: QuantityLit


@dataclass(slots=True)
class Identifier(Node):
    name: str


@dataclass(slots=True)
class Member(Node):
    """``source.name``: a property, or a definition of an included library (``Lib."Def"``)."""

    source: Expr
    name: str


@dataclass(slots=True)
class Call(Node):
    """A function call; ``source`` is the library qualifier or the fluent subject."""

    name: str
    args: list[Expr]
    source: Expr | None = None


@dataclass(slots=True)
class Index(Node):
    source: Expr
    index: Expr


@dataclass(slots=True)
class Unary(Node):
    """op: 'not', 'exists', 'negate', 'plus', 'distinct', 'flatten', 'collapse', 'expand',
    'singleton', 'point', 'start', 'end', 'width', 'size', 'successor', 'predecessor', 'is null',
    'is not null', 'is true', 'is not true', 'is false', 'is not false', 'date', 'time',
    'timezoneoffset', 'component:<precision>', 'minimum', 'maximum' (with ``type_spec``),
    'duration:<precision>', 'difference:<precision>'."""

    op: str
    operand: Expr | None
    per: Expr | None = None
    type_spec: TypeSpec | None = None


@dataclass(slots=True)
class Binary(Node):
    """op: arithmetic (+ - * / div mod ^ &), comparison (< <= > >= = != ~ !~), logical (and or
    xor implies), membership ('in', 'contains' with ``precision``), set (union intersect except)."""

    op: str
    left: Expr
    right: Expr
    precision: str | None = None


@dataclass(slots=True)
class TypeOp(Node):
    """op: 'is', 'as', 'cast'."""

    op: str
    operand: Expr
    type_spec: TypeSpec


@dataclass(slots=True)
class Convert(Node):
    operand: Expr
    type_spec: TypeSpec | None
    unit: str | None


@dataclass(slots=True)
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr
    proper: bool


@dataclass(slots=True)
class DurationBetween(Node):
    """``duration in days between a and b`` / ``difference in days between a and b``."""

    kind: str  # 'duration' or 'difference'
    precision: str
    low: Expr
    high: Expr


@dataclass(slots=True)
class Timing(Node):
    """An interval operator phrase between ``left`` and ``right``.

    kind: 'same' (with ``relation`` None, 'or before', 'or after'), 'includes', 'included in'
    (``during`` too), 'before', 'after' (``inclusive`` for on or before/after; ``offset`` and
    ``offset_relation`` None/'or more'/'or less'/'less than'/'more than'), 'within', 'meets',
    'meets before', 'meets after', 'overlaps', 'overlaps before', 'overlaps after', 'starts',
    'ends'. ``left_boundary`` is the leading 'starts'/'ends'/'occurs' applied to ``left``;
    ``right_boundary`` the trailing 'start'/'end' applied to ``right``.
    """

    kind: str
    left: Expr
    right: Expr
    precision: str | None = None
    proper: bool = False
    inclusive: bool = False
    relation: str | None = None
    offset: QuantityLit | None = None
    offset_relation: str | None = None
    left_boundary: str | None = None
    right_boundary: str | None = None


@dataclass(slots=True)
class If(Node):
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(slots=True)
class Case(Node):
    comparand: Expr | None
    items: list[tuple[Expr, Expr]]
    otherwise: Expr


@dataclass(slots=True)
class ListSelector(Node):
    element_type: TypeSpec | None
    items: list[Expr]


@dataclass(slots=True)
class IntervalSelector(Node):
    low: Expr
    high: Expr
    low_closed: bool
    high_closed: bool


@dataclass(slots=True)
class TupleSelector(Node):
    elements: list[tuple[str, Expr]]


@dataclass(slots=True)
class InstanceSelector(Node):
    type_spec: NamedType
    elements: list[tuple[str, Expr]]


@dataclass(slots=True)
class CodeSelector(Node):
    code: str
    system: Expr
    display: str | None


@dataclass(slots=True)
class ConceptSelector(Node):
    codes: list[CodeSelector]
    display: str | None


@dataclass(slots=True)
class Retrieve(Node):
    type_spec: NamedType
    code_path: str | None = None
    comparator: str | None = None  # 'in', '=', '~'
    terminology: Expr | None = None
    context: str | None = None


@dataclass(slots=True)
class AliasedSource(Node):
    source: Expr
    alias: str


@dataclass(slots=True)
class LetClause(Node):
    name: str
    expression: Expr


@dataclass(slots=True)
class Inclusion(Node):
    kind: str  # 'with' or 'without'
    source: AliasedSource
    condition: Expr


@dataclass(slots=True)
class SortItem(Node):
    expression: Expr | None  # None: sort the rows themselves
    descending: bool


@dataclass(slots=True)
class Aggregate(Node):
    name: str
    expression: Expr
    starting: Expr | None
    distinct: bool


@dataclass(slots=True)
class Query(Node):
    sources: list[AliasedSource]
    lets: list[LetClause] = field(default_factory=list)
    inclusions: list[Inclusion] = field(default_factory=list)
    where: Expr | None = None
    return_: Expr | None = None
    return_all: bool = False
    return_distinct: bool = False
    aggregate: Aggregate | None = None
    sort: list[SortItem] | None = None


Expr = (
    Literal
    | QuantityLit
    | RatioLit
    | Identifier
    | Member
    | Call
    | Index
    | Unary
    | Binary
    | TypeOp
    | Convert
    | Between
    | DurationBetween
    | Timing
    | If
    | Case
    | ListSelector
    | IntervalSelector
    | TupleSelector
    | InstanceSelector
    | CodeSelector
    | ConceptSelector
    | Retrieve
    | Query
)
