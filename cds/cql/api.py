"""The public face of the engine: load (parse + compile) a CQL library once, evaluate it many
times.

```python
lib = load_library(Path("cql/DLIMedicalNecessity.cql"), terminology=FolderTerminology(dir))
result = lib.evaluate(resources, parameters={"Order": order_json}, now=datetime.now(UTC))
result["Outcome"]; result.values
```

``load_library`` raises :class:`~cds.cql.errors.CqlLoadError` listing every problem (syntax,
resolution, types, unsupported constructs, unknown value sets). ``include`` resolves to
``<Name>-<version>.cql`` / ``<Name>.cql`` or a FHIR ``Library`` resource (``text/cql``, base64)
in ``library_dirs`` (see :mod:`cds.cql.library_source`; the official FHIRHelpers text too,
compiled as an ordinary library), else to the native FHIRHelpers.
Before compiling, the static type resolver (:mod:`cds.cql.types`, run by the ELM translator)
types the library, fail closed: a type error (``1 + 'a'``) and a construct the resolver does not
cover (``cannot type X``) are load errors with their position (reported after the compiler's own
errors). The compiler uses the static types (conversions, overloads, specialised operators).
``list_promotion`` and ``list_demotion`` are the reference translator's options of these names
(off by default, as there): a library loads exactly when the reference translator translates it
with the same options. ``library_elm`` gives the library as ELM JSON.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.cql.data.memory import InMemoryRetriever
from cds.cql.data.retriever import Retriever
from cds.cql.errors import CqlError, CqlLoadError, CqlRuntimeError
from cds.cql.library_source import find_library, read_cql_file, read_library_resource
from cds.cql.model.fhirhelpers import NativeLibrary, native_library
from cds.cql.runtime.fhir import FhirNode, primitive_to_system
from cds.cql.terminology.provider import TerminologyProvider


@dataclass(frozen=True)
class CqlLiteral:
    """A parameter value given as CQL text (``@2024-01-01``, ``10 'mg'``, ``{1, 2}``)."""

    text: str


class LibraryResolver:
    """Finds included libraries for the compiler: native ones first, then CQL files."""

    def __init__(
        self,
        library_dirs: Sequence[Path],
        terminology: TerminologyProvider | None,
        options: tuple[bool, bool] = (False, False),
    ) -> None:
        self.library_dirs = [Path(d) for d in library_dirs]
        self.terminology = terminology
        #: (list_promotion, list_demotion): with either on, an included library is type-checked
        #: whole and its list conversions are written for the engine before it is compiled.
        self.options = options
        self._compiled: dict[tuple[str, str | None], Any] = {}
        #: Load warnings of the included libraries (see :func:`model_warnings`).
        self.warnings: list[str] = []
        self._loading: set[tuple[str, str | None]] = set()

    def resolve(self, name: str, version: str | None) -> NativeLibrary | Any:
        """The library ``name`` (at ``version``): a compiled CQL library from the library
        folders, else a NativeLibrary (the native FHIRHelpers when no text of it is given)."""
        key = (name, version)
        if key in self._compiled:
            return self._compiled[key]
        if key in self._loading:
            raise CqlLoadError([CqlError(f"library {name} includes itself (directly or not)")])
        found = find_library(self.library_dirs, name, version)
        if found is None:
            native = native_library(name, version)
            if native is not None:
                return native
            where = ", ".join(str(d) for d in self.library_dirs) or "no library folder"
            raise CqlLoadError(
                [CqlError(f"included library {name} version {version!r} not found in {where}")]
            )
        self._loading.add(key)
        try:
            parsed = _parse(found.text, found.origin)
            self.warnings.extend(model_warnings(parsed))
            typing = _type_check(parsed, self.library_dirs, None, self.options)
            if typing.conversions:
                _write_conversions(parsed, typing.conversions)
            # A type error here is reported by the including library's own check.
            compiled = _compile(parsed, self, typing.static_types)
        finally:
            self._loading.discard(key)
        self._compiled[key] = compiled
        return compiled


def _parse(text: str, source_name: str | None) -> Any:
    from cds.cql.syntax import parse_library

    return parse_library(text, source_name=source_name)


def model_warnings(library_ast: Any) -> list[str]:
    """What the engine reads differently from what the library declares, one line each with
    position: ``using FHIR version '4.0.0'`` is read as FHIR 4.0.1 (the engine's model; the
    Da Vinci libraries declare 4.0.0)."""
    out = []
    for using in library_ast.usings:
        if using.model == "FHIR" and using.version == "4.0.0":
            where = f"{library_ast.name or '<anonymous>'}:{using.line}:{using.column}"
            out.append(f"{where}: FHIR version '4.0.0' is read as 4.0.1")
    return out


def _compile(library_ast: Any, resolver: LibraryResolver, static_types: Any = None) -> Any:
    from cds.cql.compiler import compile_library

    return compile_library(library_ast, resolver=resolver, static_types=static_types)


def _read_source(source: str | Path) -> tuple[str, str | None]:
    """CQL text, a ``.cql`` file, or a ``.json`` file holding a FHIR Library resource."""
    if isinstance(source, Path):
        if source.suffix == ".json":
            return read_library_resource(source), str(source)
        return read_cql_file(source), str(source)
    if "\n" not in source and source.endswith((".cql", ".json")) and Path(source).is_file():
        return _read_source(Path(source))
    return source, None


def load_library(
    source: str | Path,
    *,
    library_dirs: Sequence[Path] = (),
    terminology: TerminologyProvider | None = None,
    list_promotion: bool = False,
    list_demotion: bool = False,
) -> Library:
    """Parse, compile and type-check a library (CQL text, or a path to a ``.cql`` file).
    ``list_promotion``/``list_demotion``: the reference translator's options (off by default):
    a single value where a list is expected / a list where a single value is expected."""
    options = (list_promotion, list_demotion)
    resolver = LibraryResolver(library_dirs, terminology, options)
    try:
        text, name = _read_source(source)
        key = (text, name, tuple(str(d) for d in library_dirs), options)
        cached = _TYPED.get(key)
        if cached is not None:  # typed before, with native includes only: the same answer
            library_ast, static_types = cached
            type_error: CqlError | None = None
        else:
            library_ast = _parse(text, name)
            typing = _type_check(library_ast, library_dirs, key, options)
            static_types, type_error = typing.static_types, typing.error
            if typing.conversions:  # the list promotions/demotions the options allowed, run as chosen
                _write_conversions(library_ast, typing.conversions)
        compiled = _compile(library_ast, resolver, static_types)
        if type_error is not None:  # reported after the compiler's errors
            raise type_error
    except CqlLoadError:
        raise
    except CqlError as exc:
        raise CqlLoadError([exc]) from exc
    warnings = list(dict.fromkeys([*model_warnings(library_ast), *resolver.warnings]))
    return Library(compiled, terminology, warnings)


#: Libraries (text, source name, library folders, options) that typed without list conversions,
#: whose includes are all native (so the answer depends on the text alone): their parsed AST and
#: static types, reused when loaded again.
_TYPED: dict[tuple[str, str | None, tuple[str, ...], tuple[bool, bool]], tuple[Any, Any]] = {}


@dataclass(frozen=True)
class _Typing:
    """What the type walk gave: the static types for the compiler (None when it failed), the
    list promotions/demotions chosen (only with the options on), the error if any."""

    static_types: Any
    conversions: dict[int, Any]
    error: CqlError | None


def _type_check(
    library_ast: Any,
    library_dirs: Sequence[Path],
    key: tuple[str, str | None, tuple[str, ...], tuple[bool, bool]] | None,
    options: tuple[bool, bool],
) -> _Typing:
    """Type every definition, fail closed: CqlTypeError (ill-typed) and CannotType (a construct
    the resolver does not cover) are returned as the load error, with their position."""
    from cds.cql.elm.library import LibraryTranslator, NativeHelpers

    promotion, demotion = options
    try:
        translator = LibraryTranslator(
            library_ast, library_dirs, list_promotion=promotion, list_demotion=demotion
        )
        translator.check()
    except CqlError as exc:  # a type error, a construct not covered, an include that does not parse
        return _Typing(None, {}, exc)
    conversions = translator.list_conversions
    cacheable = all(isinstance(i, NativeHelpers) for i in translator.includes.values())
    if key is not None and not conversions and cacheable:
        if len(_TYPED) >= 64:
            _TYPED.pop(next(iter(_TYPED)))
        _TYPED[key] = (library_ast, translator.static_types)
    return _Typing(translator.static_types, conversions, None)


def _write_conversions(library_ast: Any, conversions: dict[int, Any]) -> None:
    from cds.cql.elm.list_conversions import write_list_conversions

    write_list_conversions(library_ast, conversions)


def library_elm(
    source: str | Path,
    *,
    library_dirs: Sequence[Path] = (),
    list_promotion: bool = False,
    list_demotion: bool = False,
) -> dict[str, Any]:
    """The library (CQL text or a ``.cql`` path) as ELM JSON (``{"library": ...}``, no
    annotations). Raises CqlLoadError: syntax errors, type errors, and constructs the type
    resolver does not cover (``cannot type X``), each with its position — never a guess.
    ``list_promotion``/``list_demotion`` are the reference translator's options of these
    names (off by default)."""
    elm, _ = library_elm_with_warnings(
        source, library_dirs=library_dirs, list_promotion=list_promotion, list_demotion=list_demotion
    )
    return elm


def library_elm_with_warnings(
    source: str | Path,
    *,
    library_dirs: Sequence[Path] = (),
    list_promotion: bool = False,
    list_demotion: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`library_elm` and the load warnings of the library and the libraries it
    includes (as :attr:`Library.warnings`: FHIR 4.0.0 read as 4.0.1)."""
    from cds.cql.elm.library import LibraryTranslator

    try:
        text, name = _read_source(source)
        translator = LibraryTranslator(
            _parse(text, name),
            library_dirs,
            list_promotion=list_promotion,
            list_demotion=list_demotion,
        )
        elm = translator.to_elm()
    except CqlLoadError:
        raise
    except CqlError as exc:
        raise CqlLoadError([exc]) from exc
    warnings: list[str] = []
    pending = [translator]
    while pending:
        current = pending.pop(0)
        warnings.extend(model_warnings(current.ast))
        pending.extend(i for i in current.includes.values() if isinstance(i, LibraryTranslator))
    return elm, list(dict.fromkeys(warnings))


class EvaluationResult:
    """The values of a library's public expression defines: ``result["Name"]`` or
    ``result.values`` (a dict, in library order). An unknown name raises KeyError."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


class Library:
    """A compiled library, ready to evaluate against one patient's data."""

    def __init__(
        self, compiled: Any, terminology: TerminologyProvider | None, warnings: Sequence[str] = ()
    ) -> None:
        self.compiled = compiled
        self.terminology = terminology
        #: Load warnings, one line each with position (e.g. FHIR 4.0.0 read as 4.0.1).
        self.warnings = list(warnings)

    @property
    def expression_names(self) -> list[str]:
        """Public expression defines (not functions), in library order."""
        return list(self.compiled.expression_names())

    def evaluate(
        self,
        data: Retriever | Iterable[dict[str, Any]],
        *,
        parameters: Mapping[str, object] | None = None,
        now: dt.datetime,
        deadline: float | None = None,
    ) -> EvaluationResult:
        """Evaluate every public expression define; the Patient context value is the data's
        patient. Raises CqlRuntimeError (fail closed) when any define cannot be evaluated, and
        EvaluationTimeout once ``deadline`` (``time.monotonic()`` seconds) has passed."""
        from cds.cql.compiler.context import EvaluationContext

        retriever = data if isinstance(data, Retriever) else InMemoryRetriever(data)
        if isinstance(retriever, InMemoryRetriever):
            retriever.with_terminology(self.terminology)
        params = {name: self._parameter(value) for name, value in (parameters or {}).items()}
        context = EvaluationContext(
            retriever=retriever,
            terminology=self.terminology,
            parameters=params,
            now=python_datetime_to_cql(now),
            context_values={"Patient": retriever.patient()},
            deadline=deadline,
        )
        return EvaluationResult(
            {name: self.compiled.evaluate(name, context) for name in self.expression_names}
        )

    def _parameter(self, value: object) -> Any:
        return parameter_value(value, self.terminology)


def python_datetime_to_cql(value: dt.datetime) -> Any:
    """A timezone-aware Python datetime as a CQL DateTime (millisecond precision)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CqlRuntimeError("the evaluation time must be timezone-aware")
    return primitive_to_system("dateTime", value.isoformat(timespec="milliseconds"))


def parameter_value(value: object, terminology: TerminologyProvider | None = None) -> Any:
    """A parameter given as a Python value, a CQL literal or FHIR JSON, as a runtime value."""
    if isinstance(value, CqlLiteral):
        lib = load_library(f'library ParameterValue\ndefine "Value": {value.text}\n', terminology=terminology)
        return lib.evaluate([], now=dt.datetime.now(dt.UTC))["Value"]
    if isinstance(value, dict) and "resourceType" in value:
        return FhirNode.of_resource(value)
    if isinstance(value, list | tuple):
        return [parameter_value(v, terminology) for v in value]
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if isinstance(value, dt.datetime):
        return python_datetime_to_cql(value)
    if isinstance(value, dt.date):
        return primitive_to_system("date", value.isoformat())
    return value
