"""mypyc gives a name bound by ``except A as e`` the type A for the whole function: a later
``except B as e`` in the same function then fails at run time in the compiled build only
("A object expected; got B"), turning a load error into a crash. Every module that setup.py
compiles uses one exception type per ``except ... as`` name and function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _setup_constant(name: str) -> tuple[str, ...]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError(f"setup.py has no {name}")


def _compiled_modules() -> list[Path]:
    excluded = _setup_constant("EXCLUDED")
    engine = [
        p
        for p in sorted((ROOT / "cds" / "cql").rglob("*.py"))
        if p.name != "__init__.py" and not any(p.relative_to(ROOT).as_posix().startswith(e) for e in excluded)
    ]
    return [*engine, *(ROOT / m for m in _setup_constant("SERVICE_MODULES"))]


def _mixed_names(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            types: dict[str, set[str]] = {}
            for sub in ast.walk(node):
                if isinstance(sub, ast.ExceptHandler) and sub.name and sub.type is not None:
                    types.setdefault(sub.name, set()).add(ast.unparse(sub.type))
            found += [f"{node.name}: {n} as {sorted(t)}" for n, t in types.items() if len(t) > 1]
    return found


@pytest.mark.parametrize("path", _compiled_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_one_exception_type_per_except_name(path: Path) -> None:
    assert _mixed_names(path) == []


def test_the_check_finds_a_mixed_name(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "def f():\n    try:\n        pass\n    except KeyError as e:\n        pass\n"
        "    except ValueError as e:\n        pass\n"
    )
    assert _mixed_names(source) == ["f: e as ['KeyError', 'ValueError']"]
