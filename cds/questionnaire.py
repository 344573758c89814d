"""The DLI questionnaire that documentation-needed answers point to (``cql/questionnaire``),
served with its canonical URL set to ``{public base URL}/fhir/Questionnaire/dli-cp-mp-101``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

QUESTIONNAIRE_ID = "dli-cp-mp-101"


def canonical(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/fhir/Questionnaire/{QUESTIONNAIRE_ID}"


class QuestionnaireStore:
    def __init__(self, cql_dir: Path) -> None:
        self._questionnaire = json.loads((cql_dir / "questionnaire" / f"{QUESTIONNAIRE_ID}.json").read_text())

    def questionnaire(self, base_url: str) -> dict[str, Any]:
        q: dict[str, Any] = copy.deepcopy(self._questionnaire)
        q["url"] = canonical(base_url)
        return q

    @property
    def version(self) -> str:
        version: str = self._questionnaire["version"]
        return version

    def versioned_canonical(self, base_url: str) -> str:
        """The version-specific canonical (``url|version``) that DTR references use."""
        return f"{canonical(base_url)}|{self.version}"

    def search(self, base_url: str, url: str | None) -> dict[str, Any]:
        q = self.questionnaire(base_url)
        wanted, _, version = (url or "").partition("|")
        matches = [q] if not url or (wanted == q["url"] and version in ("", q["version"])) else []
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(matches)}
        if matches:
            bundle["entry"] = [
                {
                    "fullUrl": f"{base_url.rstrip('/')}/fhir/Questionnaire/{QUESTIONNAIRE_ID}",
                    "resource": m,
                    "search": {"mode": "match"},
                }
                for m in matches
            ]
        return bundle
