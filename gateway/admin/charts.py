"""Small server-side SVG charts (bars and grouped bars): no JavaScript, print-friendly.

Every label is escaped with markupsafe; the result is Markup, safe to put in a template.
"""
from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#2f6db5", "#e07b24", "#3a9a5b", "#c43d3d", "#7a5bb5", "#888888")
WIDTH, HEIGHT, PAD = 640, 220, 32


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]],
              every_nth_label: int = 1) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series, with a legend."""
    top = max([v for values in series.values() for v in values] + [1])
    group_w = (WIDTH - 2 * PAD) / max(len(labels), 1)
    bar_w = max(group_w / (len(series) + 1), 1)
    parts = [_frame(title, top)]
    for s_index, (name, values) in enumerate(series.items()):
        colour = PALETTE[s_index % len(PALETTE)]
        for i, value in enumerate(values):
            h = (HEIGHT - 2 * PAD - 14) * value / top
            x = PAD + i * group_w + s_index * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(labels[i])} '
                         f'{escape(name)}: {value:g}</title></rect>')
    for i, label in enumerate(labels):
        if i % every_nth_label == 0:
            x = PAD + i * group_w + group_w / 2
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(_legend(list(series)))
    return _svg(title, parts)


def fill_chart(title: str, rows: list[tuple[str, int, int]]) -> Markup:
    """Horizontal bars of booked/capacity per row (e.g. per district), with percentages."""
    height = PAD + 22 * max(len(rows), 1) + 10
    parts = [f'<text x="{PAD}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>']
    inner = WIDTH - 2 * PAD - 110 - 120
    for i, (label, booked, capacity) in enumerate(rows):
        y = PAD + i * 22
        share = booked / capacity if capacity else 0
        parts.append(f'<text x="{PAD}" y="{y + 13}" font-size="11">{escape(label)}</text>'
                     f'<rect x="{PAD + 110}" y="{y}" width="{inner}" height="16" fill="#e4e8ee"/>'
                     f'<rect x="{PAD + 110}" y="{y}" width="{inner * share:.1f}" height="16" '
                     f'fill="{PALETTE[0]}"/><text x="{PAD + 116 + inner}" y="{y + 13}" '
                     f'font-size="11">{booked}/{capacity} ({share:.0%})</text>')
    return _svg(title, parts, height)


def _frame(title: str, top: float) -> str:
    return (f'<text x="{PAD}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
            f'stroke="#999"/><text x="4" y="{PAD + 18}" font-size="10">{top:g}</text>')


def _legend(names: list[str]) -> str:
    items = []
    for i, name in enumerate(names):
        x = PAD + 110 * i
        items.append(f'<rect x="{x}" y="25" width="10" height="10" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="34" font-size="11">{escape(name)}</text>')
    return "".join(items)


def _svg(title: str, parts: list[str], height: int = HEIGHT) -> Markup:
    body = "".join(parts)
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" '
                  f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
                  f'{body}</svg>')
