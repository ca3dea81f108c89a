"""Draw the Reports page's charts as inline SVG on the server (no script, no outside assets).

Hidden (suppressed) counts are not drawn: their label ("<3", "*") is written where the bar would be.
Colours come from attributes, not inline styles (the console's Content-Security-Policy forbids those).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from bot.staff.suppression import Cell

PALETTE = ["#1f6fb2", "#e07b00", "#2a9d55", "#c0392b", "#7d4fb0", "#8c5a3c", "#d64f9c", "#6b6b6b", "#9fa61c",
           "#14a3b8", "#33415c", "#b35900"]
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 48, 40, 16


def colour(index: int) -> str:
    """Return the colour of the n-th series."""
    return PALETTE[index % len(PALETTE)]


def svg(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    """Wrap chart parts in an accessible SVG element."""
    head = (f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def legend(names: Sequence[str], y: float) -> list[str]:
    """Draw a one-line legend of series names."""
    parts, x = [], LEFT
    for index, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour(index)}"/>'
                     f'<text x="{x + 14}" y="{y}" class="legend">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def axis(top: float, scale_max: float, unit: str = "") -> list[str]:
    """Draw the value axis: zero and the top value."""
    base = HEIGHT - BOTTOM
    return [f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}" class="axis"/>',
            f'<text x="{LEFT - 6}" y="{base}" text-anchor="end" class="tick">0</text>',
            f'<text x="{LEFT - 6}" y="{top + 4}" text-anchor="end" class="tick">{scale_max:g}{unit}</text>']


def day_labels(days: Sequence[str], step: float) -> list[str]:
    """Write day labels under the bars (thinned when many)."""
    every = max(1, len(days) // 12)
    return [f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'class="tick">{escape(day[5:])}</text>' for i, day in enumerate(days) if i % every == 0]


def stacked_days(title: str, days: Sequence[str], series: Sequence[tuple[str, Sequence[Cell]]]) -> Markup:
    """Draw one stacked bar per day, one colour per series."""
    totals = [sum(v for _, values in series if isinstance(v := values[i], int)) for i in range(len(days))]
    scale_max = max([*totals, 1])
    step = (WIDTH - LEFT - 8) / max(1, len(days))
    plot = HEIGHT - BOTTOM - TOP
    body = axis(TOP, scale_max)
    for i in range(len(days)):
        y = float(HEIGHT - BOTTOM)
        hidden = []
        for index, (name, values) in enumerate(series):
            value = values[i]
            if isinstance(value, str):
                hidden.append(value)
                continue
            height = plot * value / scale_max
            y -= height
            if value:
                body.append(f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                            f'height="{height:.1f}" fill="{colour(index)}"><title>{escape(days[i])} '
                            f'{escape(name)}: {value}</title></rect>')
        if hidden:
            body.append(f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                        f'class="hidden-count">{escape(" ".join(sorted(set(hidden))))}</text>')
    body += day_labels(days, step) + legend([name for name, _ in series], HEIGHT - 6)
    return svg(title, body)


def bars(title: str, items: Sequence[tuple[str, Cell]]) -> Markup:
    """Draw one horizontal bar per item, its count written beside it."""
    row, label_width = 22, 170
    height = max(40, row * len(items) + 10)
    largest = max([v for _, v in items if isinstance(v, int)] + [1])
    body = []
    for i, (label, value) in enumerate(items):
        y = 6 + row * i
        width = (WIDTH - label_width - 70) * value / largest if isinstance(value, int) else 0
        body.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" class="tick">{escape(label)}</text>'
                    f'<rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="14" fill="{colour(0)}"/>'
                    f'<text x="{label_width + width + 6:.1f}" y="{y + 14}" class="value">{escape(str(value))}</text>')
    return svg(title, body, height)


def lines(title: str, days: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
          unit: str = "") -> Markup:
    """Draw one line per series over the days (a day without a figure leaves a gap)."""
    shown = [v for _, values in series for v in values if v is not None]
    scale_max = max([*shown, 1.0])
    step = (WIDTH - LEFT - 8) / max(1, len(days))
    plot = HEIGHT - BOTTOM - TOP
    body = axis(TOP, round(scale_max, 1), unit)
    for index, (name, values) in enumerate(series):
        points = [(LEFT + step * (i + 0.5), HEIGHT - BOTTOM - plot * v / scale_max)
                  for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour(index)}" stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour(index)}"><title>{escape(name)}</title>'
                 f'</circle>' for x, y in points]
    body += day_labels(days, step) + legend([name for name, _ in series], HEIGHT - 6)
    return svg(title, body)
