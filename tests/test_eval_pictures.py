"""The evaluation's pictures, checked on the data drawn (not the pixels): the equity curve is the simple return
on capital after fees and slippage, its headline is the text verdict's, "provisional" while too few signals
have resolved; the reliability plot's counts sit beside their own points."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import matplotlib.ticker
import pytest
from hypothesis import given, strategies as st

from eval.artifacts import equity_subtitle, write_artifacts
from eval.bootstrap import Interval
from eval.equity import Costs, equity_curve, most_open, trade_return
from eval.labels import label_box
from eval.metrics import CalibrationBin
from eval.plots import equity_figure, reliability_figure
from eval.render import Judgement, headline, judgement, verdict
from eval.report import build_report
from eval.resolve import resolve_all
from intelligence.types import Direction
from providers.bars import EmbeddedMarketData
from tests.conftest import utc
from tests.test_eval_report import NOW, btc_signals

FREE = Costs(0.0, 0.0)


@pytest.fixture(scope="module")
def resolved():
    return resolve_all(btc_signals(48), EmbeddedMarketData(), NOW)


# --- the numbers behind the equity curve ---

def test_without_costs_a_trade_earns_its_simple_return_in_its_direction() -> None:
    assert trade_return(100.0, 110.0, True, FREE) == pytest.approx(0.10)
    assert trade_return(100.0, 110.0, False, FREE) == pytest.approx(-0.10)
    assert trade_return(100.0, 90.0, False, FREE) == pytest.approx(0.10)


def test_fees_and_slippage_are_paid_on_both_legs() -> None:
    costs = Costs(fee_bps=10.0, slippage_bps=5.0)
    bought, sold = 100.0 * 1.0005, 110.0 * 0.9995
    assert trade_return(100.0, 110.0, True, costs) == pytest.approx(sold / bought - 1 - 0.001 * (1 + sold / bought))
    flat = trade_return(100.0, 100.0, True, costs)
    assert flat == pytest.approx(-0.003, rel=0.01)  # a round trip at an unchanged price costs ~2 x 15 bps


@given(st.floats(1.0, 1e5), st.floats(1.0, 1e5), st.booleans(), st.floats(0, 100), st.floats(0, 100))
def test_costs_only_ever_take_away(entry: float, exit: float, long: bool, fee: float, slip: float) -> None:
    gross = trade_return(entry, exit, long, FREE)
    net = trade_return(entry, exit, long, Costs(fee, slip))
    assert net <= gross + 1e-12
    assert gross == pytest.approx(exit / entry - 1 if long else 1 - exit / entry)


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), min_size=1, max_size=25))
def test_the_capital_is_split_by_the_most_windows_open_at_once(spans) -> None:
    base = utc(2025, 1, 1)
    windows = [(base + timedelta(hours=s), base + timedelta(hours=s + n)) for s, n in spans]
    # Brute force: count at every half hour (an exit and an entry at the same time do not overlap).
    most = max(sum(1 for a, b in windows if a <= base + timedelta(minutes=30 * k) < b) for k in range(0, 270))
    assert most_open(windows) == most


def test_the_curve_adds_each_trade_after_costs_as_its_slice_of_the_capital(resolved) -> None:
    costs = Costs(10.0, 5.0)
    curve = equity_curve(resolved, costs)
    trades = [r for r in resolved if r.outcome is not None]
    assert curve.trades == len(trades) == 48
    assert curve.slices == 4  # a call every 6 hours, each open for 24: four at a time
    expected = sum(trade_return(r.outcome.entry_price, r.outcome.exit_price, r.signal.direction is Direction.BUY,
                                costs) for r in trades) / 4
    assert curve.final == pytest.approx(expected)
    long_only = sum(trade_return(r.market.entry_price, r.market.exit_price, True, costs) for r in trades) / 4
    assert curve.final_long_only == pytest.approx(long_only)
    times = [p.time for p in curve.points]
    assert times == sorted(times) and curve.points[0].signals == 0.0


def test_the_curve_is_simple_returns_not_summed_log_returns(resolved) -> None:
    curve = equity_curve(resolved, FREE)
    trades = [r for r in resolved if r.outcome is not None]
    # From each trade's log return in its direction: a long earns exit/entry - 1, a short 1 - exit/entry.
    simple = sum(math.expm1(r.outcome.realized_return) if r.signal.direction is Direction.BUY
                 else -math.expm1(-r.outcome.realized_return) for r in trades) / curve.slices
    logs = sum(r.outcome.realized_return for r in trades) / curve.slices
    assert curve.final == pytest.approx(simple)
    assert curve.final != pytest.approx(logs, abs=1e-6)


def test_costs_lower_the_curve(resolved) -> None:
    free, costly = equity_curve(resolved, FREE), equity_curve(resolved, Costs(10.0, 5.0))
    assert costly.final < free.final
    assert free.final - costly.final == pytest.approx(48 * 0.003 / 4, rel=0.05)  # ~30 bps a round trip, 1/4 each


# --- the headline agrees with the verdict ---

def _with_skill(report, low: float, high: float):
    engine = replace(report.engine, intervals={**report.engine.intervals, "brier_skill": Interval((low + high) / 2, low, high)})
    return replace(report, engine=engine)


def test_each_judgement_gives_a_sentence_and_a_headline_that_say_the_same(resolved) -> None:
    report = build_report(resolved, "test", NOW)
    assert report.note is None
    cases = {
        Judgement.SKILL: (_with_skill(report, 0.01, 0.05), "beat the base rate"),
        Judgement.WORSE: (_with_skill(report, -0.05, -0.01), "did worse than"),
        Judgement.UNCLEAR: (_with_skill(report, -0.02, 0.03), "base rate"),
    }
    for expected, (case, phrase) in cases.items():
        assert judgement(case) is expected
        assert phrase in verdict(case) and phrase in headline(case).lower()
    assert "beat" not in headline(cases[Judgement.UNCLEAR][0]) and "beat" not in headline(cases[Judgement.WORSE][0])


def test_few_signals_make_the_picture_say_provisional() -> None:
    few = build_report(resolve_all(btc_signals(12), EmbeddedMarketData(), NOW), "test", NOW)
    assert judgement(few) is Judgement.PROVISIONAL and verdict(few) == few.note
    assert headline(few) == "Provisional: only 12 signals so far"
    hourly = build_report(resolve_all(btc_signals(40, step_hours=1), EmbeddedMarketData(), NOW), "test", NOW)
    assert headline(hourly) == "Provisional: signals of only 2 days"
    nothing = build_report(resolve_all(btc_signals(4), EmbeddedMarketData(), utc(2025, 11, 20, 4)), "test", NOW)
    assert judgement(nothing) is Judgement.NOTHING and headline(nothing) == "Nothing to judge yet"


def test_the_equity_picture_draws_the_curve_under_the_verdict(resolved) -> None:
    for report in (build_report(resolved, "test", NOW),
                   build_report(resolve_all(btc_signals(12), EmbeddedMarketData(), NOW), "test", NOW)):
        figure = equity_figure(report.equity, headline(report), equity_subtitle(report))
        ax = figure.axes[0]
        title = ax.get_title(loc="left").splitlines()
        assert title[0] == headline(report)
        assert title[1] == f"Signals {report.equity.final:+.1%}, always long {report.equity.final_long_only:+.1%}"
        signals, long_only = ax.lines[0], ax.lines[1]
        assert list(signals.get_ydata()) == [p.signals for p in report.equity.points]
        assert list(long_only.get_ydata()) == [p.long_only for p in report.equity.points]
        formatter = ax.yaxis.get_major_formatter()
        assert isinstance(formatter, matplotlib.ticker.PercentFormatter) and formatter.xmax == 1.0  # fractions as %
        assert "after costs" in ax.get_ylabel()
    provisional = build_report(resolve_all(btc_signals(12), EmbeddedMarketData(), NOW), "test", NOW)
    title = equity_figure(provisional.equity, headline(provisional)).axes[0].get_title(loc="left")
    assert title.startswith("Provisional")


def test_metrics_json_holds_the_curve_and_its_costs(resolved, tmp_path: Path) -> None:
    report = build_report(resolved, "test", NOW, costs=Costs(10.0, 5.0))
    document = json.loads((write_artifacts(report, tmp_path) / "metrics.json").read_text())
    equity = document["equity"]
    assert equity["return_after_costs"] == pytest.approx(report.equity.final)
    assert equity["capital_slices"] == 4 and equity["fee_bps"] == 10.0 and equity["slippage_bps"] == 5.0
    assert len(equity["points"]) == len(report.equity.points) and "equity" in document["definitions"]


# --- the reliability plot's counts ---

def _bin(low: float, count: int, mean: float, hit: float) -> CalibrationBin:
    return CalibrationBin(low, round(low + 0.1, 1), count, mean, hit)


@pytest.mark.parametrize("bins", [
    [_bin(0.5, 32, 0.545, 0.50), _bin(0.6, 16, 0.63, 0.31)],
    [_bin(0.5, 40, 0.595, 0.55), _bin(0.6, 35, 0.605, 0.56)],  # two dots almost on top of each other
    [_bin(b / 10, 5 + b * 7, b / 10 + 0.05, b / 10 + 0.05) for b in range(10)],  # every bin, on the diagonal
    [_bin(0.9, 3, 0.985, 1.0), _bin(0.0, 3, 0.01, 0.0)],  # at the corners
])
def test_each_count_sits_beside_its_own_point(bins) -> None:
    figure = reliability_figure(bins, sum(b.count for b in bins), 0.05)
    ax = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().startswith("n=")]
    assert [t.get_text() for t in labels] == [f"n={b.count}" for b in bins]
    points = ax.transData.transform([(b.mean_probability, b.hit_rate) for b in bins])
    frame = ax.get_window_extent(renderer)
    boxes = [label_box(t, renderer) for t in labels]
    sizes = ax.collections[0].get_sizes()
    radii = [(size ** 0.5) / 2 * figure.dpi / 72 for size in sizes]  # marker area in points², to pixels
    for i, (label, box) in enumerate(zip(labels, boxes)):
        assert label.xy == (bins[i].mean_probability, bins[i].hit_rate)  # anchored on its own point
        # Beside its own dot (touching its edge, give or take the gap) and on no other dot.
        assert _distance(box, points[i]) <= radii[i] + 8 * figure.dpi / 72, f"n={bins[i].count} is not beside its dot"
        for j, other in enumerate(points):
            if j != i:
                assert _distance(box, other) > radii[j], f"n={bins[i].count} covers n={bins[j].count}'s dot"
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _distance(box, point) -> float:
    """From a point to the nearest point of a box, in pixels (0 inside it)."""
    return math.dist(point, (min(max(point[0], box.x0), box.x1), min(max(point[1], box.y0), box.y1)))


def test_labels_along_a_row_keep_to_one_side() -> None:
    bins = [_bin(b / 10, 5 + b * 7, b / 10 + 0.05, b / 10 + 0.05) for b in range(1, 9)]
    figure = reliability_figure(bins, sum(b.count for b in bins), 0.05)
    sides = [t.get_horizontalalignment() for t in figure.axes[0].texts if t.get_text().startswith("n=")]
    assert sides[1:-1] == ["left"] * (len(bins) - 2)  # text to the right of each dot, bar the ends of the row


def test_the_weekly_summary_pays_the_configured_costs(tmp_path: Path) -> None:
    """/eval and serve's weekly job build the summary with TB_SIM_FEE_BPS and TB_SIM_SLIPPAGE_BPS, not defaults."""
    from config import load_settings
    from service.operator import ServiceConfig

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tb.db'}", sim_fee_bps=25.0, sim_slippage_bps=12.0)
    config = ServiceConfig.from_settings(settings)
    assert Costs(config.fee_bps, config.slippage_bps) == Costs(25.0, 12.0) != Costs()
