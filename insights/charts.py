"""Bar charts as SVG, drawn on the server (issue 14): plain numbers in,
the shapes' coordinates out; the template writes the SVG (role="img"
with a title and a description) and, next to it, the same data as a
table — the chart is for the eye, the table for everyone."""

import math
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
LEFT = 40  # room for the axis labels
BOTTOM = 24
TOP = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) of the horizontal lines
    labels: list[tuple[float, str]]  # (x, text) under every nth bar
    baseline: float


def _step(top: int) -> int:
    """A round step for about four grid lines up to `top`."""
    if top <= 4:
        return 1
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def bars(series: list[tuple[str, int]], *, every: int = 7) -> Chart:
    """A bar per (label, value); every `every`-th label is written under
    its bar."""
    top = max((value for _label, value in series), default=0)
    step = _step(top)
    scale_top = max(step, math.ceil(top / step) * step)
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT
    slot = plot_width / max(1, len(series))
    gap = min(2.0, slot * 0.2)
    baseline = TOP + plot_height
    chart_bars = []
    labels = []
    for index, (label, value) in enumerate(series):
        height = plot_height * value / scale_top
        x = LEFT + index * slot + gap / 2
        chart_bars.append(Bar(round(x, 2), round(baseline - height, 2),
                              round(slot - gap, 2), round(height, 2), label, value))  # fmt: skip
        if index % every == 0:
            labels.append((round(x + (slot - gap) / 2, 2), label))
    ticks = [
        (round(baseline - plot_height * value / scale_top, 2), value)
        for value in range(0, scale_top + 1, step)
    ]
    return Chart(WIDTH, HEIGHT, chart_bars, ticks, labels, baseline)


ROW = 28  # a row of the paired chart: its bars and the gap to the next
NAMES = 200  # room for the names left of the paired chart's bars
RIGHT = 16  # room for the last axis label


@dataclass(frozen=True)
class Pair:
    label: str
    y: float  # top of the row's pale bar
    part_y: float  # top of the part's bar, narrower, in the middle of the pale one
    middle: float  # where the name's text sits
    whole: float  # width of the first value's bar (the offered hours)
    part: float  # width of the second's (the booked hours), drawn over the first
    whole_value: float
    part_value: float


@dataclass(frozen=True)
class PairChart:
    width: int
    height: int
    left: int  # where the bars begin (after the names)
    names: int  # where the names end
    bar: int  # height of a pale bar
    part_bar: int  # and of a part's bar
    pairs: list[Pair]
    ticks: list[tuple[float, int]]  # (x, value) of the vertical lines
    bottom: float  # below the last row: the axis labels' line


def pairs(series: list[tuple[str, float, float]]) -> PairChart:
    """A horizontal bar per (label, whole, part): the whole as a pale bar,
    the part over it in full colour from the same start — how much of
    what was offered was booked, a row per advisor with their name."""
    top = max((max(whole, part) for _label, whole, part in series), default=0)
    step = _step(math.ceil(top))
    scale_top = max(step, math.ceil(top / step) * step)
    plot_width = WIDTH - NAMES - RIGHT
    bottom = TOP + ROW * len(series)
    bar = ROW - 8

    def length(value: float) -> float:
        return round(plot_width * value / scale_top, 2)

    chart_pairs = []
    for index, (label, whole, part) in enumerate(series):
        y = TOP + index * ROW
        chart_pairs.append(
            Pair(label, y, y + bar / 4, y + bar / 2, length(whole), length(part), whole, part)
        )
    ticks = [
        (round(NAMES + plot_width * value / scale_top, 2), value)
        for value in range(0, scale_top + 1, step)
    ]
    return PairChart(
        WIDTH, int(bottom + BOTTOM), NAMES, NAMES - 8, bar, bar // 2, chart_pairs, ticks, bottom
    )
