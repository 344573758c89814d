"""Reading the official CQL conformance suite (cqframework/cql-tests XML).

The suite lives outside the project (``../shared/cql-tests/tests/cql``); the directory can be
overridden with the environment variable ``CQL_TESTS_DIR``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NS = {"t": "http://hl7.org/fhirpath/tests"}
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "cql-tests" / "tests" / "cql"


@dataclass(frozen=True)
class SuiteCase:
    file: str  # e.g. "CqlArithmeticFunctionsTest"
    group: str
    name: str
    expression: str
    invalid: str  # "false", "true" (load or run must fail), "semantic", "syntax" (load must fail)
    outputs: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.file}/{self.group}/{self.name}"


def suite_dir() -> Path:
    return Path(os.environ.get("CQL_TESTS_DIR", str(DEFAULT_DIR)))


def load_cases(directory: Path) -> list[SuiteCase]:
    cases: list[SuiteCase] = []
    for path in sorted(directory.glob("*.xml")):
        root = ET.parse(path).getroot()
        file_name = path.stem
        for group in root.findall("t:group", NS):
            for test in group.findall("t:test", NS):
                expr = test.find("t:expression", NS)
                if expr is None or expr.text is None:
                    continue
                outputs = tuple((o.text or "").strip() for o in test.findall("t:output", NS))
                cases.append(
                    SuiteCase(
                        file=file_name,
                        group=group.get("name", ""),
                        name=test.get("name", ""),
                        expression=expr.text.strip(),
                        invalid=expr.get("invalid", "false"),
                        outputs=outputs,
                    )
                )
    return cases


def load_skips(path: Path) -> dict[str, str]:
    """``File/Group/Test<TAB>reason`` per line (group names may hold spaces); ``#`` starts a
    comment line."""
    skips: dict[str, str] = {}
    if not path.exists():
        return skips
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = raw.partition("\t")
        test_id = test_id.strip()
        skips[test_id] = reason.strip() or "no reason given"
    return skips
