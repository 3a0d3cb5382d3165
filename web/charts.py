"""Small server-rendered SVG charts: pages work without JavaScript and stay accessible (title + table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape


def daily_bars_svg(
    days: Sequence[dt.date],
    energy_kwh: Sequence[float],
    baseline_kwh_per_day: float | None,
    *,
    title: str,
    width: int = 640,
    height: int = 180,
) -> str:
    """Bars of daily consumption [kWh] with the baseline [kWh/day] as a line; days over it in red."""
    if not days:
        return ""
    top = max([*energy_kwh, baseline_kwh_per_day or 0.0]) * 1.1 or 1.0
    n = len(days)
    gap = 1 if n < 120 else 0
    bar_w = max(1.0, (width - 40) / n - gap)
    bars = []
    for i, (day, value) in enumerate(zip(days, energy_kwh, strict=True)):
        h = value / top * (height - 30)
        x = 35 + i * (bar_w + gap)
        over = baseline_kwh_per_day is not None and value > baseline_kwh_per_day
        bars.append(
            f'<rect x="{x:.1f}" y="{height - 20 - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'class="{"over" if over else "under"}"><title>{day:%d.%m.%Y}: {value:.1f} kWh</title></rect>'
        )
    line = ""
    if baseline_kwh_per_day is not None:
        y = height - 20 - baseline_kwh_per_day / top * (height - 30)
        line = (
            f'<line x1="35" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" class="baseline"/>'
            f'<text x="{width - 5}" y="{y - 4:.1f}" text-anchor="end" class="label">'
            f"{baseline_kwh_per_day:.1f} kWh</text>"
        )
    axis = (
        f'<text x="30" y="{height - 20}" text-anchor="end" class="label">0</text>'
        f'<text x="30" y="14" text-anchor="end" class="label">{top:.0f}</text>'
        f'<text x="35" y="{height - 5}" class="label">{days[0]:%d.%m.}</text>'
        f'<text x="{width - 5}" y="{height - 5}" text-anchor="end" class="label">{days[-1]:%d.%m.}</text>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(bars)}{line}{axis}</svg>'
    )


PALETTE = (
    "#0a7d4f",
    "#1f5fa8",
    "#b35c00",
    "#7a3fa0",
    "#b3261e",
    "#2c8c99",
    "#6b7780",
    "#8a6d00",
    "#c2185b",
    "#33691e",
)


def team_lines_svg(
    series: dict[str, list[tuple[dt.date, float]]], *, title: str, width: int = 640, height: int = 220
) -> str:
    """Lines of savings so far [kWh] per team over the days of the contest, with a legend."""
    points = [p for values in series.values() for p in values]
    if len({d for d, _ in points}) < 2:
        return ""
    days = sorted({d for d, _ in points})
    lo = min(0.0, min(v for _, v in points))
    hi = max(v for _, v in points) or 1.0
    span_days = (days[-1] - days[0]).days or 1

    def xy(day: dt.date, value: float) -> str:
        x = 40 + (day - days[0]).days / span_days * (width - 50)
        y = 10 + (hi - value) / (hi - lo or 1.0) * (height - 40)
        return f"{x:.1f},{y:.1f}"

    lines, legend = [], []
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        lines.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(xy(d, v) for d, v in values)}"><title>{escape(name)}</title></polyline>'
        )
        legend.append(f'<li><span class="swatch" style="background:{color}"></span>{escape(name)}</li>')
    zero_y = 10 + hi / (hi - lo or 1.0) * (height - 40)
    axis = (
        f'<line x1="40" x2="{width - 10}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" class="baseline"/>'
        f'<text x="36" y="14" text-anchor="end" class="label">{hi:.0f}</text>'
        f'<text x="36" y="{zero_y + 4:.1f}" text-anchor="end" class="label">0</text>'
        f'<text x="40" y="{height - 8}" class="label">{days[0]:%d.%m.}</text>'
        f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" class="label">{days[-1]:%d.%m.}</text>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{axis}{"".join(lines)}</svg>'
        f'<ul class="legend">{"".join(legend)}</ul>'
    )
