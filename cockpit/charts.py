"""The cockpit's charts, drawn on the server as SVG geometry (paths in a fixed view box) for the templates to render inline."""
import math
from dataclasses import dataclass, field

from scoring.bands import BANDS

from .formatting import format_number


@dataclass
class Chart:
    """An SVG line chart in a `width` x `height` view box: paths, reference lines, zones and axis labels."""

    width: int
    height: int
    lines: list = field(default_factory=list)
    points: list = field(default_factory=list)
    references: list = field(default_factory=list)
    zones: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)
    x_labels: list = field(default_factory=list)

    @property
    def view_box(self):
        return f"0 0 {self.width} {self.height}"

    @property
    def empty(self):
        return not any(line["path"] for line in self.lines)


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 40, 8, 8, 22


def _scale(low, high, top, bottom):
    span = (high - low) or 1.0
    return lambda value: round(bottom - (value - low) / span * (bottom - top), 1)


def _path(xs, values, y_of):
    """An SVG path through the present values; a missing value breaks the line."""
    parts, pen_down = [], False
    for x, value in zip(xs, values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x},{y_of(value)}")
        pen_down = True
    return " ".join(parts)


def _step_path(xs, values, y_of):
    """A stepped SVG path: each day's value holds until the next day's, so a change shows as a vertical step."""
    parts, pen_down = [], False
    for x, value in zip(xs, values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"H{x} V{y_of(value)}" if pen_down else f"M{x},{y_of(value)}")
        pen_down = True
    return " ".join(parts)


def line_chart(days, series, *, low, high, width=640, height=200, axes=True, references=(), bands=False, links=None):
    """
    A Chart of `series` [(label, css class, [value or None per day])] over `days` (dates, oldest first), with
    y from `low` to `high`. `references` are [(label, css class, value)] drawn as horizontal lines, or
    [(label, css class, [value or None per day])] drawn as stepped lines (a target that changed over time);
    `bands` shades the health bands behind 0-100 scores; `links` (one url per day) makes the first series'
    points links.
    """
    left, bottom = (PLOT_LEFT, height - PLOT_BOTTOM) if axes else (2, height - 2)
    right, top = (width - PLOT_RIGHT, PLOT_TOP) if axes else (width - 2, 2)
    y_of = _scale(low, high, top, bottom)
    first = days[0] if days else None
    span = max((days[-1] - first).days, 1) if days else 1
    xs = [round(left + (day - first).days / span * (right - left), 1) for day in days]
    chart = Chart(width, height)
    for label, css, values in series:
        chart.lines.append({"label": label, "css": css, "path": _path(xs, values, y_of)})
    if links and series:
        chart.points = [
            {"x": x, "y": y_of(value), "href": href, "title": f"{day:%Y-%m-%d}: {format_number(value)}"}
            for x, day, value, href in zip(xs, days, series[0][2], links)
            if value is not None
        ]
    for label, css, value in references:
        if isinstance(value, list):
            path, last = _step_path(xs, value, y_of), next((each for each in reversed(value) if each is not None), None)
            if path:
                chart.references.append({"label": label, "css": css, "path": path, "y": y_of(last), "x2": right})
        elif value is not None and low <= value <= high:
            chart.references.append({"label": label, "css": css, "y": y_of(value), "x1": left, "x2": right})
    if bands:
        ceiling = high
        for band in BANDS:
            chart.zones.append({"key": band.key, "y": y_of(ceiling), "height": round(y_of(band.floor) - y_of(ceiling), 1), "x": left, "width": right - left})
            ceiling = band.floor
    if axes:
        ticks = [low + (high - low) * step / 4 for step in range(5)]
        chart.y_ticks = [{"y": y_of(tick), "label": format_number(round(tick, 6)), "x1": left, "x2": right} for tick in ticks]
        if days:
            chart.x_labels = [{"x": xs[0], "label": f"{days[0]:%b %d}", "anchor": "start"}]
            if len(days) > 1:
                chart.x_labels.append({"x": xs[-1], "label": f"{days[-1]:%b %d}", "anchor": "end"})
    return chart


def value_range(values):
    """y bounds around `values` on round numbers, four equal steps apart (0-80, 95-100.5), never zero-height."""
    present = [value for value in values if value is not None]
    if not present:
        return 0.0, 1.0
    low, high = min(present), max(present)
    if low == high:
        low, high = low - (abs(low) * 0.1 or 1.0), high + (abs(high) * 0.1 or 1.0)
    magnitude = 10 ** math.floor(math.log10((high - low) / 4))
    for multiple in (1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        step = multiple * magnitude
        bottom = math.floor(low / step) * step
        if bottom + 4 * step >= high:
            return bottom, bottom + 4 * step
    return low, high
