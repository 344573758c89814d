"""The policy as the service runs it: the CQL library, each ``define`` anchored (``#define-...``)
so that the decision trace can link a criterion to the defines that decide it, and the value
sets with their codes. Read once from the service's ``cql/`` folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.workbench.html import slug, table, text

_DEFINE = re.compile(r'^define\s+(?:function\s+)?"([^"]+)"')
# The "Criteria" define's tuples: label, then the define holding the status.
_CRITERION = re.compile(r"label:\s*'([^']+)'.*?status:\s*\"([^\"]+)\"", re.S)


def define_anchor(name: str) -> str:
    return f"define-{slug(name)}"


@dataclass(frozen=True)
class PolicyView:
    library: str
    defines: tuple[str, ...]
    criterion_defines: dict[str, tuple[str, ...]]  # label -> status define (and reason/evidence)
    valuesets: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, cql_dir: Path) -> PolicyView:
        library = next(iter(sorted(cql_dir.glob("*.cql")))).read_text()
        defines = tuple(m.group(1) for line in library.splitlines() if (m := _DEFINE.match(line)))
        criteria = library.split('define "Criteria":', 1)[-1].split("\ndefine ", 1)[0]
        known = set(defines)
        links: dict[str, tuple[str, ...]] = {}
        for label, status in _CRITERION.findall(criteria):
            stem = status.removesuffix(" Status")
            extra = (f"{stem} Reason", f"{stem} Evidence")
            links[label] = (status, *(d for d in extra if d in known))
        valuesets = tuple(
            json.loads(p.read_text()) for p in sorted((cql_dir / "valuesets").glob("*.json"))
        )
        return cls(library, defines, links, valuesets)

    def criterion_links(self, label: str) -> str:
        names = self.criterion_defines.get(label, ())
        return ", ".join(
            f'<a href="/workbench/policy#{define_anchor(n)}">{text(n)}</a>' for n in names
        )

    def library_html(self) -> str:
        lines = []
        for number, line in enumerate(self.library.splitlines(), start=1):
            match = _DEFINE.match(line)
            anchor = f' id="{define_anchor(match.group(1))}"' if match else ""
            lines.append(f'<span class="line"{anchor}><span class="ln">{number}</span>{text(line)}</span>')
        return '<pre class="cql" tabindex="0" aria-label="CQL library">' + "\n".join(lines) + "</pre>"

    def index_html(self) -> str:
        items = "".join(
            f'<li><a href="#{define_anchor(n)}">{text(n)}</a></li>' for n in sorted(set(self.defines))
        )
        return f'<details><summary>Every define ({len(set(self.defines))})</summary><ul class="cols">{items}</ul></details>'

    def criteria_html(self) -> str:
        rows = [[text(label), self.criterion_links(label)] for label in self.criterion_defines]
        return table(["Criterion", "Defines"], rows, caption="Where each criterion is decided")

    def valuesets_html(self) -> str:
        out = []
        for vs in self.valuesets:
            rows = [
                [text(inc.get("system")), f"<code>{text(c.get('code'))}</code>", text(c.get("display"))]
                for inc in (vs.get("compose") or {}).get("include") or []
                for c in inc.get("concept") or []
            ]
            anchor = f"valueset-{slug(str(vs.get('id')))}"
            out.append(
                f'<section aria-labelledby="{anchor}"><h3 id="{anchor}">{text(vs.get("title") or vs.get("name"))}</h3>'
                f"<p><code>{text(vs.get('url'))}</code>: {text(vs.get('description'))}</p>"
                + table(["System", "Code", "Display"], rows)
                + "</section>"
            )
        return "".join(out)
