"""The dashboard's charts: Chart.js (served with the app from ``static/vendor``, no CDN).

Each chart is a ``<canvas>`` whose Chart.js configuration is a JSON ``data-chart``
attribute (no inline script: the Content-Security-Policy allows none); ``admin.js`` draws
it. Axes start at zero with whole-number ticks, bars are at most 48 px wide (seven
messages are a small bar, not the whole card), and every chart has a title and an
``aria-label``. The result is Markup, safe to put in a template.
"""
from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#2f6db5", "#e07b24", "#3a9a5b", "#c43d3d", "#7a5bb5", "#888888")
MAX_BAR_PX = 48


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]],
              x_title: str = "", y_title: str = "", stacked: bool = False) -> Markup:
    """Vertical bars: one group per label, one bar per series (stacked if asked)."""
    data = {"labels": labels, "datasets": [
        {"label": name, "data": values, "backgroundColor": PALETTE[i % len(PALETTE)],
         "maxBarThickness": MAX_BAR_PX} for i, (name, values) in enumerate(series.items())]}
    scales = {"x": _axis(x_title, stacked), "y": {**_axis(y_title, stacked),
                                                  "beginAtZero": True,
                                                  "ticks": {"precision": 0}}}
    return _canvas(title, {"type": "bar", "data": data, "options": _options(title, scales)})


def fill_chart(title: str, rows: list[tuple[str, int, int]]) -> Markup:
    """Horizontal bars of the share of places booked per row (e.g. district), fullest
    first; ``admin.js`` re-sorts them by name or by places on request."""
    rows = sorted(rows, key=lambda r: (-(r[1] / r[2] if r[2] else 0), r[0]))
    data = {"labels": [r[0] for r in rows], "datasets": [{
        "label": "% of places booked", "backgroundColor": PALETTE[0],
        "maxBarThickness": 28,
        "data": [round(100 * b / c, 1) if c else 0 for _, b, c in rows],
        "booked": [b for _, b, _ in rows], "capacity": [c for _, _, c in rows]}]}
    scales = {"x": {"beginAtZero": True, "max": 100,
                    "title": {"display": True, "text": "% of places booked"}}}
    options = {**_options(title, scales), "indexAxis": "y"}
    height = 60 + 28 * max(len(rows), 1)
    return _canvas(title, {"type": "bar", "data": data, "options": options}, height,
                   sortable=True)


def _axis(title: str, stacked: bool) -> dict[str, Any]:
    axis: dict[str, Any] = {"stacked": stacked}
    if title:
        axis["title"] = {"display": True, "text": title}
    return axis


def _options(title: str, scales: dict[str, Any]) -> dict[str, Any]:
    return {"responsive": True, "maintainAspectRatio": False, "animation": False,
            "plugins": {"title": {"display": True, "text": title, "font": {"size": 14}},
                        "legend": {"position": "bottom"}},
            "scales": scales}


def _canvas(title: str, config: dict[str, Any], height: int = 280,
            sortable: bool = False) -> Markup:
    spec = escape(json.dumps(config, ensure_ascii=False))
    sort = (' <label class="chart-sort">Order <select data-sort-chart>'
            '<option value="fill">fullest first</option><option value="name">by name'
            '</option><option value="places">most places first</option></select></label>'
            if sortable else "")
    return Markup(f'<div class="chart-box" data-height="{height}">'
                  f'<canvas class="chart" role="img" aria-label="{escape(title)}" '
                  f'data-chart="{spec}"></canvas></div>{sort}')
