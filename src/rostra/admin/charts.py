"""Server-rendered SVG charts for the dashboard: small, accessible, no script.

Each chart is an <svg role="img"> with a <title> and <desc>; the page shows the same
numbers in a table for screen readers and for copying.
"""

from __future__ import annotations

from html import escape
from typing import Any

# Colours with at least 3:1 contrast against white (WCAG non-text contrast).
COLOURS = {"approved": "#2f6f3e", "pending": "#9a6700", "spam": "#b42318",
           "rejected": "#6b3fa0", "deleted": "#555555"}
STACK = ("approved", "pending", "spam", "rejected", "deleted")


def per_day_chart(per_day: list[dict[str, Any]], title: str) -> str:
    """Stacked bars: comments per day by state."""
    width, height, left, bottom, top = 640, 220, 36, 24, 10
    n = max(1, len(per_day))
    peak = max([d["total"] for d in per_day] + [1])
    step = (width - left - 4) / n
    bar = max(1.0, step * 0.8)
    plot = height - bottom - top
    parts = [
        (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
         f'aria-labelledby="c-day-t c-day-d" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="c-day-t">{escape(title)}</title>',
        (f'<desc id="c-day-d">Stacked bars, one per day, coloured by state; '
         f'highest day {peak}.</desc>'),
        f'<line x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="#555"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, day in enumerate(per_day):
        x = left + i * step
        y = top + plot
        for state in STACK:
            value = day.get(state, 0)
            if not value:
                continue
            h = plot * value / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[state]}"><title>{escape(day["date"])}: {value} {state}'
                f'</title></rect>'
            )
        if i % max(1, n // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="11">'
                         f'{escape(day["date"][5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: list[tuple[str, float]], title: str, chart_id: str, unit: str = "") -> str:
    """Horizontal bars with labels, e.g. held comments per reason."""
    width, row_h, label_w = 640, 26, 220
    height = max(1, len(rows)) * row_h + 8
    peak = max([v for _, v in rows] + [1])
    parts = [
        (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
         f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    if not rows:
        parts.append('<text x="4" y="18" font-size="13">Nothing in this period.</text>')
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * value / peak
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13">'
                     f'{escape(_short(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="18" '
                     f'fill="#1f4e8c"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="13">'
                     f'{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 28) -> str:
    """A label that fits the space left of the bars (the full text is in the table)."""
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"
