"""Server-drawn SVG bar charts for reports.

The admin's CSP allows no inline script or style, so the chart is plain SVG
geometry (attributes, never style="") coloured by classes in app.css. The
template `web/_bar_chart.html` draws what `bar_chart` computes; the table
under it shows the same rows, so the numbers never depend on seeing the chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 960, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 88
MAX_BAR = 120


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    css: str  # "bar", "bar bar-other", "bar bar-unset"
    label_x: float
    show_label: bool


@dataclass
class Tick:
    y: float
    value: int


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT
    label_y: float = HEIGHT - BOTTOM + 16
    # Labels lie flat under wide bars and slant under narrow ones.
    slanted: bool = False


def _nice_step(top: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) for about five ticks."""
    if top <= 5:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return int(m * power)
    return int(10 * power)


def bar_chart(title: str, items: list[tuple[str, int, str]]) -> Chart:
    """Bars for (label, count, kind) items; kind is "", "other" or "unset"."""
    chart = Chart(title=title)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max((count for _, count, _ in items), default=0)
    step = _nice_step(top)
    axis_top = max(step, math.ceil(top / step) * step)
    chart.ticks = [
        Tick(y=round(TOP + plot_h - plot_h * v / axis_top, 1), value=v)
        for v in range(0, axis_top + 1, step)
    ]
    if not items:
        return chart
    slot = plot_w / len(items)
    gap = min(8.0, slot * 0.2)
    bar_w = min(slot - gap, MAX_BAR)
    chart.slanted = slot < 150
    if not chart.slanted:  # one line of labels needs less room than slanted ones
        chart.height = HEIGHT - BOTTOM + 32
    # Only every n-th label fits under narrow bars (a 365-day series).
    every = max(1, math.ceil(len(items) * 70 / plot_w))
    for i, (label, count, kind) in enumerate(items):
        h = plot_h * count / axis_top
        middle = LEFT + i * slot + slot / 2
        chart.bars.append(
            Bar(
                x=round(middle - bar_w / 2, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(max(bar_w, 1.0), 1),
                height=round(h, 1),
                label=label,
                count=count,
                css=f"bar bar-{kind}" if kind else "bar",
                label_x=round(middle + (4 if chart.slanted else 0), 1),
                show_label=i % every == 0,
            )
        )
    return chart


@dataclass
class AxisLabel:
    x: float
    text: str


@dataclass
class Grouped:
    """Bars side by side per label, one colour per series (class `bar bar-<key>`)."""

    chart: Chart
    labels: list[AxisLabel]
    legend: list[tuple[str, str]]  # (series name, css class)


def grouped_bar_chart(
    title: str, labels: list[str], series: list[tuple[str, str, list[int]]]
) -> Grouped:
    """One group of bars per label (a day), one bar per series: (key, name, counts),
    coloured by the class `bar-<key>` (e.g. bar-shown)."""
    chart = Chart(title=title)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max((n for _, _, counts in series for n in counts), default=0)
    step = _nice_step(top)
    axis_top = max(step, math.ceil(top / step) * step)
    chart.ticks = [
        Tick(y=round(TOP + plot_h - plot_h * v / axis_top, 1), value=v)
        for v in range(0, axis_top + 1, step)
    ]
    chart.height = HEIGHT - BOTTOM + 32  # labels lie flat: only every n-th is drawn
    legend = [(name, f"bar bar-{key}") for key, name, _ in series]
    axis: list[AxisLabel] = []
    if not labels or not series:
        return Grouped(chart, axis, legend)
    slot = plot_w / len(labels)
    gap = min(8.0, slot * 0.2)
    bar_w = min((slot - gap) / len(series), MAX_BAR / 2)
    every = max(1, math.ceil(len(labels) * 80 / plot_w))
    for i, label in enumerate(labels):
        middle = LEFT + i * slot + slot / 2
        first_x = middle - bar_w * len(series) / 2
        for s, (key, name, counts) in enumerate(series):
            h = plot_h * counts[i] / axis_top
            chart.bars.append(
                Bar(
                    x=round(first_x + s * bar_w, 1),
                    y=round(TOP + plot_h - h, 1),
                    width=round(max(bar_w - 1, 1.0), 1),
                    height=round(h, 1),
                    label=f"{label}, {name.lower()}",
                    count=counts[i],
                    css=f"bar bar-{key}",
                    label_x=round(middle, 1),
                    show_label=False,
                )
            )
        if i % every == 0:
            axis.append(AxisLabel(x=round(middle, 1), text=label))
    return Grouped(chart, axis, legend)
