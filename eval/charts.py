"""One asset's picture: the price, the narrative score beneath it over the same hours, the calls where
they were made and the headlines that moved the story most. Pure drawing: service/charts.py gathers
the data. Drawn for a phone held upright: tall, big type, the headlines as a numbered list below.
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display anywhere this runs: servers, CI, the bot's worker thread

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from eval.labels import Mark, above_or_below, place_labels  # noqa: E402
from eval.plots import DPI, ENGINE, NEUTRAL, STYLE, date_axis, day_numbers  # noqa: E402
from intelligence.narrative_path import Mover  # noqa: E402
from intelligence.types import Bar  # noqa: E402

SIZE = (7.0, 10.0)  # inches: portrait, the shape of a phone screen
UP, DOWN = "#1a8f3c", "#c8322b"
TITLE_WIDTH = 44  # characters of a headline per line in the list under the chart
MOVER_DOT = 11.0  # points across
# More holds than this (a cycle every few minutes) would bury the price line: they are left off.
MAX_HOLD_MARKS = 100


@dataclass(frozen=True)
class ChartSignal:
    as_of: datetime
    direction: str  # BUY | SELL | HOLD
    probability: float | None
    narrative_score: float
    price: float | None  # the last close known when it was made


@dataclass(frozen=True)
class ChartData:
    symbol: str
    name: str
    start: datetime
    end: datetime
    bars: Sequence[Bar]
    interval: timedelta
    times: Sequence[datetime]  # where the narrative score was computed
    narrative: Sequence[float]
    signals: Sequence[ChartSignal]
    movers: Sequence[Mover]

    @property
    def calls(self) -> list[ChartSignal]:
        return [s for s in self.signals if s.direction in ("BUY", "SELL")]

    @property
    def holds(self) -> list[ChartSignal]:
        return [s for s in self.signals if s.direction not in ("BUY", "SELL")]

    @property
    def holds_marked(self) -> bool:
        return 0 < len(self.holds) <= MAX_HOLD_MARKS


def _marker(direction: str) -> tuple[str, str]:
    return ("^", UP) if direction == "BUY" else ("v", DOWN)


def chart_figure(data: ChartData) -> Figure:
    with plt.rc_context(STYLE):
        figure = plt.figure(figsize=SIZE)
        grid = figure.add_gridspec(3, 1, height_ratios=[3.0, 2.0, 1.7], hspace=0.2)
        price = figure.add_subplot(grid[0])
        story = figure.add_subplot(grid[1], sharex=price)
        listing = figure.add_subplot(grid[2])
        margin = (data.end - data.start) * 0.03  # a call at the window's end stays whole
        price.set_xlim(*day_numbers([data.start, data.end + margin]))  # first: labels are placed on the final geometry
        date_axis(story, 3, 5)
        price.tick_params(labelbottom=False)
        _price_panel(price, data)
        _story_panel(figure, story, data)
        _movers_list(listing, data.movers)
        calls = data.calls
        said = f"{len(calls)} call{'s' if len(calls) != 1 else ''}" if calls else "no calls"
        price.set_title(f"{data.symbol}: the tape and the story\n{data.start:%d %b} to {data.end:%d %b %H:%M} UTC, "
                        f"{said}", loc="left")
    return figure


def chart_png(data: ChartData) -> bytes:
    with plt.rc_context(STYLE):
        figure = chart_figure(data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
        plt.close(figure)
        return buffer.getvalue()


def _priced(signals: Sequence[ChartSignal]) -> tuple[list[float], list[float]]:
    found = [(s.as_of, s.price) for s in signals if s.price is not None]
    return day_numbers([t for t, _ in found]), [p for _, p in found]


def _price_panel(ax: Axes, data: ChartData) -> None:
    if data.bars:
        ax.plot(day_numbers([b.start + data.interval for b in data.bars]), [b.close for b in data.bars], color="black",
                linewidth=2)
    holds = _priced(data.holds) if data.holds_marked else ([], [])
    if holds[0]:
        ax.scatter(*holds, s=60, facecolor="white", edgecolor=NEUTRAL, linewidth=1.5, zorder=3, label="hold")
    for direction in ("BUY", "SELL"):
        xs, ys = _priced([c for c in data.calls if c.direction == direction])
        if xs:
            shape, colour = _marker(direction)
            ax.scatter(xs, ys, marker=shape, s=260, color=colour, edgecolor="white", linewidth=1.5, zorder=4,
                       label=direction.lower())
    ax.set_ylabel("Price (USD)")
    ax.grid(alpha=0.25)
    if holds[0] or data.calls:  # a legend only for what is on the chart
        ax.legend(loc="best", frameon=False, handletextpad=0.2)


def _story_panel(figure: Figure, ax: Axes, data: ChartData) -> None:
    times, scores = day_numbers(data.times), list(data.narrative)
    if times:
        ax.plot(times, scores, color=ENGINE, linewidth=2.5)
        ax.fill_between(times, scores, 0, where=[s >= 0 for s in scores], color=UP, alpha=0.18, interpolate=True)
        ax.fill_between(times, scores, 0, where=[s < 0 for s in scores], color=DOWN, alpha=0.18, interpolate=True)
    ax.axhline(0, color=NEUTRAL, linewidth=1)
    for call in data.calls:
        ax.axvline(day_numbers([call.as_of])[0], color=_marker(call.direction)[1], linewidth=1.2, alpha=0.6, zorder=1)
    # Room above and below the strongest reading for the numbered labels.
    reach = max([0.25, *(abs(s) for s in scores), *(abs(m.score) for m in data.movers)]) * 2.0
    ax.set_ylim(-reach, reach)
    ax.set_ylabel("News score")
    ax.grid(alpha=0.25)
    if data.movers:  # a dot where each headline arrived, its number on a leader line clear of the others
        xs = day_numbers([m.published for m in data.movers])
        ys = [m.score for m in data.movers]
        ax.scatter(xs, ys, s=MOVER_DOT ** 2, color=ENGINE, edgecolor="white", linewidth=1.5, zorder=4)
        # A headline that pulled the score down: the line comes from above, so its number goes below.
        marks = [Mark(x, y, MOVER_DOT / 2, below_first=m.move < 0) for x, y, m in zip(xs, ys, data.movers)]
        place_labels(figure, ax, marks, [str(n) for n in range(1, len(marks) + 1)], spots=above_or_below,
                     leader=True, pad=8, fontsize=14, fontweight="bold", color=ENGINE, zorder=5,
                     bbox={"boxstyle": "circle,pad=0.3", "facecolor": "white", "edgecolor": ENGINE, "linewidth": 2})


def _movers_list(ax: Axes, movers: Sequence[Mover]) -> None:
    ax.axis("off")
    if not movers:
        ax.text(0, 1, "No headline about it in this window.", va="top", color=NEUTRAL, transform=ax.transAxes)
        return
    lines = ["Headlines that moved the story most:"]
    for n, mover in enumerate(movers, start=1):
        title = textwrap.shorten(mover.title, TITLE_WIDTH * 2, placeholder="…")
        wrapped = textwrap.wrap(title, TITLE_WIDTH)
        lines.append(f"{n}  {mover.published:%d %b %H:%M} {mover.source} ({mover.move:+.2f})")
        lines += [f"    {part}" for part in wrapped]
    ax.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=13, transform=ax.transAxes, linespacing=1.35)
