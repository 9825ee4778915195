"""The two pictures of an evaluation, drawn to be read at a glance on a phone: big type, few marks."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # no display anywhere this runs: servers, CI, the scheduler thread

import matplotlib.dates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from eval.metrics import CalibrationBin  # noqa: E402
from eval.equity import EquityCurve  # noqa: E402
from eval.labels import Mark, place_labels  # noqa: E402

SIZE = (7.0, 7.0)  # inches: square, so a phone shows it whole in portrait
DPI = 150
# Typed loosely: matplotlib's stubs want each key as one of its literal rcParams names.
STYLE: dict[Any, Any] = {
    "font.size": 17, "axes.titlesize": 21, "axes.labelsize": 18, "xtick.labelsize": 15, "ytick.labelsize": 15,
    "legend.fontsize": 15, "axes.spines.top": False, "axes.spines.right": False,
}
ENGINE = "#1f5fbf"
NEUTRAL = "#8a8a8a"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


# matplotlib's stubs leave these untyped; the names give the uses here their types.
_date2num: Callable[[datetime], float] = matplotlib.dates.date2num
_date_locator: Callable[..., Any] = matplotlib.dates.AutoDateLocator
_date_formatter: Callable[..., Any] = matplotlib.dates.ConciseDateFormatter


def day_numbers(times: Sequence[datetime]) -> list[float]:
    """Times as a date axis counts them (matplotlib's day numbers)."""
    return [float(_date2num(t)) for t in times]


def date_axis(ax: Axes, fewest: int, most: int) -> None:
    """Dates on the x axis, as few labels as can say them (`ConciseDateFormatter`)."""
    locator = _date_locator(minticks=fewest, maxticks=most)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(_date_formatter(locator))


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes, color=NEUTRAL)
    ax.set_xticks([])
    ax.set_yticks([])


def reliability_figure(bins: Sequence[CalibrationBin], count: int, ece: float | None, subtitle: str = "") -> Figure:
    """Said vs happened per probability bin; dot area follows how many signals are behind it, and each
    dot's count sits beside it (right, else left, else above or below: never nearer another dot)."""
    with plt.rc_context(STYLE):
        figure, ax = plt.subplots(figsize=SIZE)
        filled = [b for b in bins if b.count and b.mean_probability is not None and b.hit_rate is not None]
        title = "Did the odds come true?"
        if not filled:
            _empty(ax, "No resolved signals yet")
        else:
            ax.plot([0, 1], [0, 1], linestyle="--", color=NEUTRAL, linewidth=2, label="perfectly calibrated")
            largest = max(b.count for b in filled)
            xs = [float(b.mean_probability) for b in filled]  # type: ignore[arg-type]
            ys = [float(b.hit_rate) for b in filled]  # type: ignore[arg-type]
            sizes = [120 + 700 * b.count / largest for b in filled]
            ax.plot(xs, ys, color=ENGINE, linewidth=2.5, zorder=2)
            ax.scatter(xs, ys, s=sizes, color=ENGINE, zorder=3, label="signals")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.04, 1.08)
            ax.set_xlabel("Said: chance right")
            ax.set_ylabel("Happened: share right")
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.legend(loc="upper left", frameon=False)
            ax.grid(alpha=0.25)
            marks = [Mark(x, y, (size ** 0.5) / 2) for x, y, size in zip(xs, ys, sizes)]  # size: area in points²
            place_labels(figure, ax, marks, [f"n={b.count}" for b in filled], fontsize=14, zorder=4)
        detail = f"{count} resolved" + (f" · calibration error {ece:.0%}" if ece is not None else "")
        ax.set_title(f"{title}\n{detail}" + (f"\n{subtitle}" if subtitle else ""), loc="left")
    return figure


def reliability_png(bins: Sequence[CalibrationBin], count: int, ece: float | None, subtitle: str = "") -> bytes:
    with plt.rc_context(STYLE):  # the saved text keeps the style's sizes
        return _png(reliability_figure(bins, count, ece, subtitle))


def equity_figure(curve: EquityCurve, headline: str, subtitle: str = "") -> Figure:
    """Cumulative simple return after costs of following every signal, beside always-long on the same
    windows; the headline is the evaluation's verdict, so the picture never claims more than the text."""
    points = curve.points
    with plt.rc_context(STYLE):
        figure, ax = plt.subplots(figsize=SIZE)
        if not points:
            _empty(ax, "No resolved signals yet")
        else:
            times = day_numbers([p.time for p in points])
            marker = "o" if len(points) <= 40 else None  # few points: show each exit, many: just the line
            ax.plot(times, [p.signals for p in points], color=ENGINE, linewidth=3, marker=marker,
                    label="following the signals")
            ax.plot(times, [p.long_only for p in points], color=NEUTRAL, linewidth=2, linestyle="--",
                    label="always long, same times")
            ax.axhline(0, color="black", linewidth=1)
            ax.set_ylabel("Return on capital, after costs")
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1))
            ax.legend(loc="best", frameon=False)
            ax.grid(alpha=0.25)
            if times[0] == times[-1]:  # one exit time: give the axis a span so the locator has days to mark
                ax.set_xlim(times[0] - 1, times[0] + 1)  # in days
            date_axis(ax, 2, 4)
        lines = [headline]
        if points:
            lines.append(f"Signals {curve.final:+.1%}, always long {curve.final_long_only:+.1%}")
        if subtitle:
            lines.append(subtitle)
        ax.set_title("\n".join(lines), loc="left")
    return figure


def equity_png(curve: EquityCurve, headline: str, subtitle: str = "") -> bytes:
    with plt.rc_context(STYLE):  # the saved text keeps the style's sizes
        return _png(equity_figure(curve, headline, subtitle))
