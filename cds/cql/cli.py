"""``dli-cds cql``: check and run CQL libraries from the command line.

```
dli-cds cql check LIB.cql [LIB.cql ...] [--libraries DIR] [--valuesets DIR]
dli-cds cql run LIB.cql --data BUNDLE.json [--valuesets DIR] [--libraries DIR]
                [--param NAME=CQL-LITERAL ...] [--now ISO-DATETIME]   (alias: evaluate)
dli-cds cql elm LIB.cql [--libraries DIR] [--out FILE]
```

Each command takes ``--list-promotion`` and ``--list-demotion``, the reference translator's
options of these names (off by default, as there): a single value where a list is expected,
a list where a single value is expected (older libraries are written with them).

``check`` prints every problem with its position and exits 0 only when every library loads.
``elm`` writes the library as ELM JSON (to ``--out`` or standard output); a construct the type
resolver does not cover is an error (``cannot type X``), never guessed. ``run`` prints one JSON object: each public expression define → its value (see
:mod:`cds.cql.result_json`). The data's only Patient is the context. The top-level ``dli-cds``
command mounts this with :func:`register` and dispatches to :func:`run`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cds.cql.errors import CqlError, CqlLoadError

EXIT_OK = 0
EXIT_CQL_ERROR = 1
EXIT_USAGE = 2


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``cql`` command (with ``check`` and ``run``) to an argparse subparsers object."""
    cql = subparsers.add_parser("cql", help="check or run CQL libraries")
    commands = cql.add_subparsers(dest="cql_command", required=True)
    check = commands.add_parser("check", help="parse and compile libraries, printing every error")
    check.add_argument("libraries", nargs="+", type=Path, metavar="LIB.cql")
    check.add_argument("--libraries", dest="library_dirs", action="append", type=Path, default=[])
    check.add_argument("--valuesets", type=Path, default=None)
    _list_options(check)
    runp = commands.add_parser(
        "run", aliases=["evaluate"], help="evaluate a library against a FHIR bundle; print JSON"
    )
    runp.add_argument("library", type=Path, metavar="LIB.cql")
    runp.add_argument("--data", type=Path, required=True, metavar="BUNDLE.json")
    runp.add_argument("--valuesets", type=Path, default=None)
    runp.add_argument("--libraries", dest="library_dirs", action="append", type=Path, default=[])
    runp.add_argument("--param", action="append", default=[], metavar="NAME=CQL-LITERAL")
    runp.add_argument("--now", default=None, metavar="ISO-DATETIME")
    _list_options(runp)
    elm = commands.add_parser("elm", help="translate a library to ELM JSON")
    elm.add_argument("library", type=Path, metavar="LIB.cql")
    elm.add_argument("--libraries", dest="library_dirs", action="append", type=Path, default=[])
    elm.add_argument("--out", type=Path, default=None, metavar="FILE")
    _list_options(elm)
    cql.set_defaults(handler=run)
    parser: argparse.ArgumentParser = cql
    return parser


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--list-promotion", action="store_true", help="allow a single value where a list is expected"
    )
    parser.add_argument(
        "--list-demotion", action="store_true", help="allow a list where a single value is expected"
    )


def _options(args: argparse.Namespace) -> dict[str, bool]:
    return {"list_promotion": args.list_promotion, "list_demotion": args.list_demotion}


def run(args: argparse.Namespace) -> int:
    """Execute a parsed ``cql`` command; returns the process exit code. Expected failures are
    reported where they happen; anything else is still one line (an engine defect, named as
    such), never a traceback."""
    try:
        if args.cql_command == "check":
            return _check(args)
        if args.cql_command == "elm":
            return _elm(args)
        return _run(args)
    except RecursionError:
        print("error: the library nests too deeply to load or evaluate", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        print(f"error: internal engine error ({type(exc).__name__}: {exc})", file=sys.stderr)
    return EXIT_CQL_ERROR


def _terminology(path: Path | None) -> Any:
    if path is None:
        return None
    from cds.cql.terminology.folder import FolderTerminology

    return FolderTerminology(path)


def _print_error(error: CqlError) -> None:
    errors = error.errors if isinstance(error, CqlLoadError) else [error]
    for e in errors:
        print(f"error: {e}", file=sys.stderr)


def _print_warnings(library: Any) -> None:
    for warning in library.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    from cds.cql.api import load_library

    try:
        terminology = _terminology(args.valuesets)
    except CqlError as exc:
        _print_error(exc)
        return EXIT_CQL_ERROR
    status = EXIT_OK
    for path in args.libraries:
        try:
            library = load_library(
                Path(path), library_dirs=args.library_dirs, terminology=terminology, **_options(args)
            )
        except CqlError as exc:
            _print_error(exc)
            status = EXIT_CQL_ERROR
        except OSError as exc:
            print(f"error: {path}: {exc.strerror}", file=sys.stderr)
            status = EXIT_CQL_ERROR
        else:
            _print_warnings(library)
            print(f"ok: {path}")
    return status


def _elm(args: argparse.Namespace) -> int:
    from cds.cql.api import library_elm_with_warnings

    try:
        elm, warnings = library_elm_with_warnings(
            Path(args.library), library_dirs=args.library_dirs, **_options(args)
        )
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        text = json.dumps(elm, indent=1)
        if args.out is None:
            print(text)
        else:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
    except CqlError as exc:
        _print_error(exc)
        return EXIT_CQL_ERROR
    except OSError as exc:
        print(f"error: {exc.filename or args.library}: {exc.strerror}", file=sys.stderr)
        return EXIT_CQL_ERROR
    return EXIT_OK


def _parse_now(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"--now {text!r} needs a timezone offset (e.g. Z or +00:00)")
    return value


def _parse_params(items: Sequence[str]) -> dict[str, object]:
    from cds.cql.api import CqlLiteral

    params: dict[str, object] = {}
    for item in items:
        name, sep, literal = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {item!r} is not NAME=CQL-LITERAL")
        params[name] = CqlLiteral(literal)
    return params


def _run(args: argparse.Namespace) -> int:
    from cds.cql.api import load_library
    from cds.cql.result_json import dumps

    try:
        now = _parse_now(args.now)
        params = _parse_params(args.param)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        data = json.loads(Path(args.data).read_text(encoding="utf-8"), parse_float=decimal.Decimal)
    except OSError as exc:
        print(f"error: {args.data}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # JSONDecodeError (with line and column) or UnicodeDecodeError
        print(f"error: {args.data}: not JSON: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not _is_resources(data):
        print(f"error: {args.data}: not a FHIR resource, Bundle or list of resources", file=sys.stderr)
        return EXIT_USAGE
    resources = data if isinstance(data, list) else [data]
    try:
        library = load_library(
            Path(args.library),
            library_dirs=args.library_dirs,
            terminology=_terminology(args.valuesets),
            **_options(args),
        )
        _print_warnings(library)
        result = library.evaluate(resources, parameters=params, now=now)
        print(dumps(dict(result.values)))
    except CqlError as exc:
        _print_error(exc)
        return EXIT_CQL_ERROR
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CQL_ERROR
    return EXIT_OK


def _is_resources(data: object) -> bool:
    items = data if isinstance(data, list) else [data]
    return all(isinstance(r, dict) and isinstance(r.get("resourceType"), str) for r in items)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cds.cql.cli cql ...`` (the same command as ``dli-cds cql ...``)."""
    parser = argparse.ArgumentParser(prog="dli-cds")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
