"""A report from resolved signals on real bars: scores, baselines, cohorts, the too-few sentence, artifacts."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from eval.artifacts import run_directory, write_artifacts
from eval.cohorts import confidence_tier
from eval.render import metrics_table, verdict
from eval.report import MIN_RESOLVED, build_report, distinct
from eval.resolve import SingleFileBars, resolve_all
from eval.signals import checked_signal
from intelligence.types import Direction
from providers.bars import EmbeddedMarketData
from tests.conftest import utc

DATA = Path(__file__).resolve().parent / "data" / "bars"
NOW = utc(2026, 1, 1)


def btc_signals(count: int, step_hours: int = 6):
    """Calls on the real embedded BTC tape: BUY and SELL in turn, with probabilities across the tiers."""
    start = utc(2025, 11, 20, 3)
    out = []
    for n in range(count):
        direction = Direction.BUY if n % 2 == 0 else Direction.SELL
        probability = (0.52, 0.57, 0.63)[n % 3]
        out.append(checked_signal("t", str(n), start + timedelta(hours=step_hours * n), "BTC", direction, probability,
                                  24, 0.4, 0.3 if n % 2 == 0 else -0.3, (-0.2, 0.1, 0.4)[n % 3],
                                  ("DIVERGENCE_BULLISH" if n % 2 == 0 else "DIVERGENCE_BEARISH", "VOLUME_LIGHT"),
                                  ("CoinDesk", "Decrypt")[: 1 + n % 2]))
    return out


@pytest.fixture(scope="module")
def resolved_btc():
    return resolve_all(btc_signals(48), EmbeddedMarketData(), NOW)


def test_engine_scores_are_the_plain_averages_of_what_was_said_and_what_happened(resolved_btc) -> None:
    report = build_report(resolved_btc, "test", NOW)
    assert report.counts.resolved == 48 and report.note is None and report.days == 12
    said = [r.signal.probability for r in resolved_btc]
    hit = [float(r.outcome.hit) for r in resolved_btc]
    assert report.engine is not None
    assert report.engine.brier == pytest.approx(sum((p - y) ** 2 for p, y in zip(said, hit)) / 48)
    assert report.hit_rate == pytest.approx(sum(hit) / 48)
    clim = report.baselines["climatology"]
    assert report.engine.brier_skill == pytest.approx(1 - report.engine.brier / clim.brier)
    assert clim.brier_skill == 0.0
    for scores in (report.engine, *report.baselines.values()):
        for name in ("brier", "log_loss", "brier_skill"):
            interval = scores.intervals[name]
            assert interval.low <= interval.point <= interval.high
    assert set(report.baselines) == {"climatology", "price_only", "sentiment_only"}
    # The first signal knows no closed move: the base rate starts at a coin flip.
    assert report.baseline_fits < 48


def test_cohorts_split_by_tier_asset_reason_and_source(resolved_btc) -> None:
    report = build_report(resolved_btc, "test", NOW)
    rows = {(c.dimension, c.value): c for c in report.cohorts}
    assert rows[("asset", "BTC")].count == 48
    assert rows[("confidence", "high (60%+)")].count == 16 and rows[("confidence", "low (50-55%)")].count == 16
    assert rows[("reason", "VOLUME_LIGHT")].count == 48 and rows[("reason", "DIVERGENCE_BULLISH")].count == 24
    assert rows[("source", "CoinDesk")].count == 48 and rows[("source", "Decrypt")].count == 24
    for c in report.cohorts:
        assert c.win_low <= c.win_rate <= c.win_high and c.hits <= c.count


def test_tiers_cover_every_probability() -> None:
    assert [confidence_tier(p) for p in (0.3, 0.5, 0.549, 0.55, 0.6, 0.99)] == [
        "below 50%", "low (50-55%)", "low (50-55%)", "medium (55-60%)", "high (60%+)", "high (60%+)"]


def test_too_few_resolved_signals_are_said_in_a_sentence() -> None:
    signals = btc_signals(12)
    report = build_report(resolve_all(signals, EmbeddedMarketData(), NOW), "test", NOW)
    assert report.counts.resolved == 12 < MIN_RESOLVED
    assert report.note is not None and report.note.startswith("Only 12 signals have resolved, too few to judge")
    assert verdict(report) == report.note


def test_nothing_resolved_yet_is_said_and_nothing_is_scored() -> None:
    signals = btc_signals(4)
    report = build_report(resolve_all(signals, EmbeddedMarketData(), utc(2025, 11, 20, 4)), "test", NOW)
    assert report.engine is None and report.counts.open == 4
    assert report.note == ("No signal has resolved yet (4 still inside their horizon): there is nothing to score "
                           "until a horizon has passed.")


def test_many_signals_on_few_days_are_still_too_few() -> None:
    signals = btc_signals(40, step_hours=1)  # 40 hourly calls: two days of one market
    report = build_report(resolve_all(signals, EmbeddedMarketData(), NOW), "test", NOW)
    assert report.counts.resolved == 40 and report.note is not None and "only 2 days" in report.note
    assert report.engine is not None and report.engine.intervals == {}


def test_a_restated_signal_is_scored_once() -> None:
    signals = btc_signals(3)
    kept, folded = distinct([*signals, signals[1]])
    assert folded == 1 and len(kept) == 3


def test_the_week_scores_only_what_resolved_in_it(resolved_btc) -> None:
    cut = utc(2025, 11, 28)
    week = build_report(resolved_btc, "test", NOW, resolved_after=cut)
    assert 0 < week.counts.resolved < 48
    assert all(r.outcome.exit_time > cut for r in week.resolutions)


def test_artifacts_hold_the_contract_and_readable_pictures(resolved_btc, tmp_path: Path) -> None:
    report = build_report(resolved_btc, "test", NOW)
    out = write_artifacts(report, tmp_path / "run")
    document = json.loads((out / "metrics.json").read_text())
    for key in ("count", "brier", "log_loss", "ece", "brier_skill"):
        assert isinstance(document[key], (int, float))
    assert set(document["baselines"]) == {"climatology", "price_only", "sentiment_only"}
    assert document["baselines"]["price_only"]["engine_advantage"]["point"] == pytest.approx(
        document["baselines"]["price_only"]["brier"] - document["brier"])
    with (out / "calibration.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10 and sum(int(r["count"]) for r in rows) == 48
    with (out / "cohorts.csv").open() as handle:
        assert {r["dimension"] for r in csv.DictReader(handle)} == {"confidence", "asset", "reason", "source"}
    for name in ("reliability.png", "equity.png"):
        data = (out / name).read_bytes()
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and min(image.size) >= 800  # phone-sized, not a thumbnail
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 20  # drawn on, not a blank canvas
    assert "engine" in metrics_table(report) and "sentiment_only" in metrics_table(report)


def test_run_directories_never_collide(tmp_path: Path) -> None:
    first = run_directory(tmp_path, NOW)
    first.mkdir()
    assert first.name == "20260101T000000Z" and run_directory(tmp_path, NOW).name == "20260101T000000Z-2"


def test_spy_daily_signals_resolve_session_by_session() -> None:
    bars = SingleFileBars(DATA / "SPY.csv", ["SPY"])
    signals = [checked_signal("t", str(n), b.start - timedelta(hours=3), "SPY", Direction.BUY, 0.55, 24, 0.3, 0.2,
                              0.0, (), ()) for n, b in enumerate(bars.series.bars[1:])]
    report = build_report(resolve_all(signals, bars, NOW), "test", NOW)
    ups = sum(1 for b in bars.series.bars[1:] if b.close > b.open)
    assert report.counts.resolved == len(signals) and report.hit_rate == pytest.approx(ups / len(signals))
