"""Small SVG charts drawn on the server (no script, no library): stacked bars over days, and
horizontal bars for counts. Every chart has a title and a text description for screen readers,
and the data is also shown as a table next to it by the caller."""

from __future__ import annotations

from cds.workbench.html import slug, text

PALETTE = {  # dark enough for 4.5:1 against white text-free fills and on the white page
    "meets-criteria": "#1b7a3a",
    "not-medically-necessary": "#b3261e",
    "documentation-needed": "#8a5a00",
    "indeterminate": "#5b5b9a",
    "error": "#4a4a4a",
    "no card": "#7a7a7a",
}


def _color(name: str, i: int) -> str:
    return PALETTE.get(name, ("#1f5fa8", "#6b3fa0", "#00707a", "#8a3b12")[i % 4])


def stacked_bars(title: str, days: list[str], series: dict[str, list[int]], *, width: int = 640) -> str:
    """Bars per day, stacked by series; a legend under the chart."""
    height, left, bottom, top = 220, 40, 40, 10
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    step = (width - left - 10) / max(len(days), 1)
    bar = min(48.0, max(2.0, step * 0.7))
    scale = (height - bottom - top) / peak
    key = "chart-" + slug(title)
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height + 40}" viewBox="0 0 {width} {height + 40}"'
        f' aria-labelledby="{key}t {key}d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{key}t">{text(title)}</title>',
        f'<desc id="{key}d">{text(_describe(days, series))}</desc>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>',
    ]
    for d, day in enumerate(days):
        x = left + d * step + (step - bar) / 2
        y = float(height - bottom)
        for i, (name, values) in enumerate(series.items()):
            h = values[d] * scale
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{_color(name, i)}">'
                    f"<title>{text(day)} {text(name)}: {values[d]}</title></rect>"
                )
        if len(days) <= 14 or d % max(1, len(days) // 7) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10">{text(day[5:])}</text>'
            )
    for i, name in enumerate(series):
        x, y = left + (i % 3) * 200, height + 18 * (i // 3)
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{_color(name, i)}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 9}" font-size="11">{text(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def hbars(title: str, counts: list[tuple[str, float]], *, unit: str = "", width: int = 640) -> str:
    """One horizontal bar per (label, value)."""
    row, left = 22, 150
    height = row * max(len(counts), 1) + 10
    peak = max((v for _, v in counts), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-label="{text(title)}" xmlns="http://www.w3.org/2000/svg"><title>{text(title)}</title>'
    ]
    for i, (label, value) in enumerate(counts):
        y = 5 + i * row
        w = (width - left - 80) * value / peak
        shown = f"{value:g}{unit}"
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">{text(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="#1f5fa8"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="12">{text(shown)}</text>')
    if not counts:
        parts.append(f'<text x="{left}" y="18" font-size="12">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def _describe(days: list[str], series: dict[str, list[int]]) -> str:
    totals = {name: sum(values) for name, values in series.items()}
    spread = ", ".join(f"{name} {n}" for name, n in totals.items())
    return f"{len(days)} days; totals: {spread or 'none'}"
