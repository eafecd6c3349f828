"""Server-side SVG charts: pure functions from plain data to SVG markup strings.

Every chart is an `<svg role="img">` whose first child is a `<title>` (its accessible
name); every bar, segment and area carries its own `<title>` (label and value, shown
as a tooltip) and the values are also written as text. The CSP forbids `style=`
attributes, so looks come from CSS classes (`static/dashboard.css`) and colours from
`fill` attributes, which only ever hold a checked `#rgb`/`#rrggbb` colour. All text is
XML-escaped, so hostile labels (a state or user named `<script>`) stay text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Colours arrive from the database (statuses, dropdown values): only a plain hex colour
# may reach a `fill` attribute; anything else gets the neutral fallback.
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
FALLBACK_COLOUR = "#94a3b8"
ValueText = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    """One bar (or one segment of a stacked bar): a label, a value, a colour."""

    label: str
    value: float
    colour: str | None = None
    href: str | None = None  # where the bar leads (the items behind it)


@dataclass(frozen=True)
class Series:
    """One named series over the categories of a stacked or area chart."""

    label: str
    values: Sequence[float]
    colour: str | None = None


def number(value: float) -> str:
    """A value as a label: integers without a fraction, others with one digit."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def colour_of(value: str | None) -> str:
    return value if value is not None and _HEX_COLOUR.fullmatch(value) else FALLBACK_COLOUR


# Characters XML 1.0 cannot carry at all: shown as U+FFFD rather than breaking the SVG.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    # A bare CR would come back as LF from any XML parser: keep it as a reference.
    text = escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)
    return text.replace("\r", "&#13;")


def _n(value: float) -> str:
    """A coordinate: short, and never '-0'."""
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def _svg(width: float, height: float, title: str, body: list[str], css: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}">'
        f"<title>{_text(title)}</title>{''.join(body)}</svg>"
    )


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (1 for 0):
    the top of a value axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9 * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def count_ticks(value: float) -> list[int]:
    """Axis ticks for counts: whole numbers from 0, a round step (1, 2, 5 times a power
    of ten), at most 6 ticks, the last at or above `value`. Never 0.5 of a result."""
    top = max(math.ceil(value), 1)
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if math.ceil(top / step) <= 5:
                return [k * step for k in range(math.ceil(top / step) + 1)]
        power *= 10


def _empty(width: float, height: float, title: str, css: str) -> str:
    body = [
        f'<text class="chart-empty" x="{_n(width / 2)}" y="{_n(height / 2)}" '
        f'text-anchor="middle">No data</text>'
    ]
    return _svg(width, height, title, body, css)


def bar_chart(
    bars: Sequence[Bar],
    title: str,
    *,
    width: float = 480,
    bar_height: float = 22,
    gap: float = 8,
    label_width: float = 150,
    value_text: ValueText = number,
) -> str:
    """Horizontal bars, one per row: the label on the left, the value after the bar.
    Bar lengths are proportional to the values (the longest spans the plot)."""
    height = max(len(bars), 1) * (bar_height + gap) + gap
    if not bars or all(b.value <= 0 for b in bars):
        return _empty(width, height, title, "chart-bar")
    shown_values = [value_text(b.value) for b in bars]
    # Room after the longest bar for the longest value label (about 7 units a glyph).
    value_width = 12 + 7 * max(len(v) for v in shown_values)
    plot = width - label_width - value_width
    top = max(b.value for b in bars)
    body = []
    for i, (bar, shown) in enumerate(zip(bars, shown_values, strict=True)):
        y = gap + i * (bar_height + gap)
        length = plot * max(bar.value, 0) / top
        middle = _n(y + bar_height / 2)
        body.append(
            _linked(
                bar.href,
                f'<g class="chart-item"><title>{_text(bar.label)}: {_text(shown)}</title>'
                f'<text class="chart-label" x="{_n(label_width - 6)}" y="{middle}" '
                f'text-anchor="end" dominant-baseline="middle">{_text(_clip(bar.label, 22))}'
                f"</text>"
                f'<rect x="{_n(label_width)}" y="{_n(y)}" width="{_n(length)}" '
                f'height="{_n(bar_height)}" fill="{colour_of(bar.colour)}"/>'
                f'<text class="chart-value" x="{_n(label_width + length + 6)}" y="{middle}" '
                f'dominant-baseline="middle">{_text(shown)}</text></g>',
            )
        )
    return _svg(width, height, title, body, "chart-bar")


def _linked(href: str | None, markup: str) -> str:
    """`markup` inside a link to `href` (a same-site path, escaped) when there is one."""
    return markup if href is None else f'<a href="{_text(href)}">{markup}</a>'


def _clip(label: str, length: int) -> str:
    """Long labels are cut (the full text stays in the item's <title>)."""
    return label if len(label) <= length else label[: length - 1] + "…"


def status_bar(
    segments: Sequence[Bar], title: str, *, width: float = 120, height: float = 10
) -> str:
    """A small horizontal bar for one session: one segment per status, lengths
    proportional to the counts, in the order given. Zero counts draw nothing."""
    total = sum(max(s.value, 0) for s in segments)
    if total <= 0:
        body = [
            f'<rect class="status-bar-empty" x="0" y="0" width="{_n(width)}" '
            f'height="{_n(height)}"/>'
        ]
        return _svg(width, height, title, body, "chart-status-bar")
    body = []
    x = 0.0
    for s in segments:
        if s.value <= 0:
            continue
        length = width * s.value / total
        body.append(
            f'<rect x="{_n(x)}" y="0" width="{_n(length)}" height="{_n(height)}" '
            f'fill="{colour_of(s.colour)}"><title>{_text(s.label)}: '
            f"{_text(number(s.value))}</title></rect>"
        )
        x += length
    return _svg(width, height, title, body, "chart-status-bar")


@dataclass(frozen=True)
class _Frame:
    """The plot area of a chart with a value axis on the left and categories below."""

    width: float
    height: float
    left: float = 44
    right: float = 10
    top: float = 10
    bottom: float = 36

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top: float) -> float:
        return self.top + self.plot_height * (1 - value / top)


def _axes(
    frame: _Frame,
    top: float,
    categories: Sequence[str],
    x_of: Callable[[int], float],
    ticks: Sequence[float] | None = None,
) -> list[str]:
    """Horizontal grid lines with value labels (at `ticks`, else quarters of `top`),
    and a subset of category labels (at most about 8, so they never overlap)."""
    out = []
    for value in ticks if ticks is not None else [top * k / 4 for k in range(5)]:
        y = frame.y(value, top)
        out.append(
            f'<line class="chart-grid" x1="{_n(frame.left)}" y1="{_n(y)}" '
            f'x2="{_n(frame.width - frame.right)}" y2="{_n(y)}"/>'
            f'<text class="chart-axis" x="{_n(frame.left - 4)}" y="{_n(y)}" '
            f'text-anchor="end" dominant-baseline="middle">{_text(number(value))}</text>'
        )
    every = max(1, math.ceil(len(categories) / 8))
    base = frame.height - frame.bottom + 14
    for i, name in enumerate(categories):
        if i % every == 0:
            out.append(
                f'<text class="chart-axis" x="{_n(x_of(i))}" y="{_n(base)}" '
                f'text-anchor="middle">{_text(name)}</text>'
            )
    return out


def _legend(series: Sequence[Series], frame: _Frame) -> list[str]:
    out = []
    x = frame.left
    y = frame.height - 10
    for s in series:
        out.append(
            f'<g class="chart-legend"><rect x="{_n(x)}" y="{_n(y - 8)}" width="10" height="10" '
            f'fill="{colour_of(s.colour)}"/><text class="chart-axis" x="{_n(x + 14)}" '
            f'y="{_n(y)}">{_text(s.label)}</text></g>'
        )
        x += 24 + 7 * len(s.label)
    return out


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(
                f"series {s.label!r} has {len(s.values)} values, not {len(categories)}"
            )


def stacked_bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    width: float = 640,
    height: float = 240,
    counts: bool = False,
    links: Sequence[str] | None = None,
) -> str:
    """Vertical bars, one per category, each stacked from the series' values (the
    first series at the bottom). The value axis runs from 0 to a round number at
    or above the tallest stack; with `counts`, its ticks are whole numbers. With
    `links` (one per category), each stack links to what is behind it."""
    _check(categories, series)
    totals = [sum(max(s.values[i], 0) for s in series) for i in range(len(categories))]
    if not categories or max(totals) <= 0:
        return _empty(width, height, title, "chart-stacked")
    frame = _Frame(width, height)
    ticks = count_ticks(max(totals)) if counts else None
    top = float(ticks[-1]) if ticks else nice_max(max(totals))
    slot = frame.plot_width / len(categories)
    bar = max(slot * 0.7, 1)

    def x_of(i: int) -> float:
        return frame.left + slot * (i + 0.5)

    body = _axes(frame, top, categories, x_of, ticks)
    for i, name in enumerate(categories):
        base = 0.0
        parts = []
        for s in series:
            value = max(s.values[i], 0)
            if value <= 0:
                continue
            y_top, y_bottom = frame.y(base + value, top), frame.y(base, top)
            parts.append(
                f'<rect x="{_n(x_of(i) - bar / 2)}" y="{_n(y_top)}" width="{_n(bar)}" '
                f'height="{_n(y_bottom - y_top)}" fill="{colour_of(s.colour)}">'
                f"<title>{_text(name)}, {_text(s.label)}: {_text(number(value))}</title></rect>"
            )
            base += value
        if parts:
            group = f'<g class="chart-item">{"".join(parts)}</g>'
            body.append(_linked(links[i] if links else None, group))
    body.extend(_legend(series, frame))
    return _svg(width, height, title, body, "chart-stacked")


def area_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    stacked: bool = True,
    width: float = 640,
    height: float = 240,
) -> str:
    """Values over time: one line per series, or (stacked) areas piled on each other
    (the first series at the bottom), with a point per category."""
    _check(categories, series)
    n = len(categories)
    if stacked:
        tops = [sum(max(s.values[i], 0) for s in series) for i in range(n)]
    else:
        tops = [max((max(s.values[i], 0) for s in series), default=0) for i in range(n)]
    if not categories or not series or max(tops) <= 0:
        return _empty(width, height, title, "chart-area")
    frame = _Frame(width, height)
    top = nice_max(max(tops))

    def x_of(i: int) -> float:
        # One category is drawn in the middle; more span the plot edge to edge.
        if n == 1:
            return frame.left + frame.plot_width / 2
        return frame.left + frame.plot_width * i / (n - 1)

    body = _axes(frame, top, categories, x_of)
    below = [0.0] * n
    for s in series:
        values = [max(v, 0) for v in s.values]
        upper = [b + v for b, v in zip(below, values, strict=True)] if stacked else values
        line = [f"{_n(x_of(i))},{_n(frame.y(upper[i], top))}" for i in range(n)]
        colour = colour_of(s.colour)
        total = number(sum(values))
        label = f"<title>{_text(s.label)}: {_text(total)} in all</title>"
        if stacked:
            floor = [f"{_n(x_of(i))},{_n(frame.y(below[i], top))}" for i in reversed(range(n))]
            body.append(
                f'<g class="chart-item"><polygon class="chart-area-fill" '
                f'points="{" ".join(line + floor)}" fill="{colour}">{label}</polygon></g>'
            )
        else:
            body.append(
                f'<g class="chart-item"><polyline class="chart-line" points="{" ".join(line)}" '
                f'fill="none" stroke="{colour}">{label}</polyline></g>'
            )
        for i in range(n):
            if values[i] > 0:
                body.append(
                    f'<circle class="chart-point" cx="{_n(x_of(i))}" '
                    f'cy="{_n(frame.y(upper[i], top))}" r="2.5" fill="{colour}">'
                    f"<title>{_text(categories[i])}, {_text(s.label)}: "
                    f"{_text(number(values[i]))}</title></circle>"
                )
        below = upper if stacked else below
    body.extend(_legend(series, frame))
    return _svg(width, height, title, body, "chart-area")
