"""The geometry of the census trend charts, drawn on the server as inline SVG.

A chart is a series of (occupied, capacity) pairs, one per day, oldest first.
It is drawn in a fixed coordinate box that the page stretches to the width of
its panel (`preserveAspectRatio="none"` with non-scaling strokes), so labels
live in the HTML around the chart, never inside it, where they would stretch.
"""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 300
HEIGHT = 80


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    # The value at the top of the box, in the series' unit (beds, slots,
    # caseload): a round number above the highest value, for the axis label.
    y_max: int
    occupied_points: str  # an SVG polyline's points: "x,y x,y ..."
    area_points: str  # the same line closed along the bottom, for the fill
    capacity_points: str

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _fmt(value: float) -> str:
    # Two decimals are finer than a pixel at any width a page gives the chart.
    return f"{value:.2f}".rstrip("0").rstrip(".")


def axis_top(highest: int) -> int:
    """A round number above `highest`, so that a full program's line stays below the top."""
    step = next(
        (s for limit, s in ((10, 2), (50, 5), (100, 10), (500, 50)) if highest < limit), 100
    )
    return (highest // step + 1) * step


def trend_chart(
    series: Sequence[tuple[int, int]], *, width: int = WIDTH, height: int = HEIGHT
) -> TrendChart:
    """Polylines for occupied and capacity over `series` (oldest first)."""
    if not series:
        raise ValueError("a trend needs at least one day")
    top = axis_top(max(max(occupied, capacity) for occupied, capacity in series))
    # One day is drawn as a flat line across the box rather than a single point.
    steps = max(len(series) - 1, 1)
    xs = [width * i / steps for i in range(len(series))] if len(series) > 1 else [0, width]
    values = series if len(series) > 1 else [series[0], series[0]]

    def y(value: int) -> float:
        return height - height * value / top

    occupied = [f"{_fmt(x)},{_fmt(y(o))}" for x, (o, _) in zip(xs, values, strict=True)]
    capacity = [f"{_fmt(x)},{_fmt(y(c))}" for x, (_, c) in zip(xs, values, strict=True)]
    area = [f"0,{height}", *occupied, f"{width},{height}"]
    return TrendChart(
        width=width,
        height=height,
        y_max=top,
        occupied_points=" ".join(occupied),
        area_points=" ".join(area),
        capacity_points=" ".join(capacity),
    )
