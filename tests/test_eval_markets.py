"""Who forecasts better: the crowd, the engine and the base rate on resolved markets, in metrics.json and the weekly."""
from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from eval.artifacts import write_artifacts
from eval.baselines import KnownMove
from eval.markets import MIN_PAIRS, MarketPair, climatology_yes, compare_forecasters, load_pairs
from eval.pipeline import evaluate_store
from eval.weekly import build_weekly_summary
from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.market_models import MarketSnapshotRow, PredictionMarketRow
from storage.models import Run
from tests.conftest import utc
from tests.eval_fixtures import store_signal

NOW = utc(2025, 12, 15, 8)
MARKET = EmbeddedMarketData()


def pair(n: int, market: float, engine: float, outcome: bool, kind: str = "up_down") -> MarketPair:
    return MarketPair(str(n), "ETH", kind, utc(2025, 12, 1) + timedelta(hours=n), market, engine, outcome)


def test_scores_are_brier_and_log_loss_of_each_forecaster_on_the_market_outcome() -> None:
    pairs = [pair(1, 0.8, 0.6, True), pair(2, 0.3, 0.55, False), pair(3, 0.6, 0.4, False)]
    history = [KnownMove(utc(2025, 11, 30), True, 0, 0), KnownMove(utc(2025, 11, 30, 1), True, 0, 0)]
    found = compare_forecasters(pairs, history, markets_seen=5)
    assert found.count == 3 and found.markets_seen == 5 and found.by_symbol == {"ETH": 3}
    assert found.scores["market"].brier == pytest.approx((0.2**2 + 0.3**2 + 0.6**2) / 3)
    assert found.scores["engine"].brier == pytest.approx((0.4**2 + 0.55**2 + 0.4**2) / 3)
    # Two up moves known before every pair: (2 + 1) / (2 + 2) = 0.75 for each.
    assert found.scores["climatology"].brier == pytest.approx((0.25**2 + 0.75**2 + 0.75**2) / 3)
    assert found.scores["market"].log_loss == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3)
    assert found.best == "market" and f"at least {MIN_PAIRS}" in found.note


def test_the_climatology_knows_only_moves_before_the_snapshot_and_flips_for_below() -> None:
    history = [KnownMove(utc(2025, 12, 1, 1), True, 0, 0), KnownMove(utc(2025, 12, 1, 3), False, 0, 0)]
    found = climatology_yes([pair(1, 0.5, 0.5, True), pair(2, 0.5, 0.5, True), pair(3, 0.5, 0.5, True, "below")],
                            history)
    # At 01:00 the 01:00 move is not yet known (1/2); at 02:00 it is (2/3); at 03:00 the 03:00 one is not yet
    # either, so still 2/3 up, and a Below market's Yes is its complement.
    assert list(found) == pytest.approx([0.5, 2 / 3, 1 / 3])


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.booleans()), min_size=1, max_size=40))
def test_scores_are_bounded_and_a_perfect_crowd_scores_zero(rows) -> None:
    pairs = [pair(n, m, e, o) for n, (m, e, o) in enumerate(rows)]
    found = compare_forecasters(pairs, [], 1)
    assert all(0 <= s.brier <= 1 and s.log_loss >= 0 for s in found.scores.values())
    perfect = compare_forecasters([pair(n, float(o), e, o) for n, (_, e, o) in enumerate(rows)], [], 1)
    assert perfect.scores["market"].brier == 0 and perfect.best == "market"


def _seed_markets(sessions) -> None:
    """Three ETH markets seen beside calls: two resolved (one seen twice), one still open; one not comparable."""
    with sessions.begin() as session:
        run_id = session.scalar(select(Run.id))
        for market_id, outcome, end in (("a", True, utc(2025, 12, 5, 17)), ("b", False, utc(2025, 12, 6, 17)),
                                        ("c", None, utc(2025, 12, 20, 17)), ("d", True, utc(2025, 12, 7, 17))):
            session.add(PredictionMarketRow(
                market_id=market_id, source="polymarket", question=f"Ethereum Up or Down ({market_id})?", slug="",
                symbol="ETH", asset_name="Ethereum", kind="up_down", end_at=end, first_seen_at=end - timedelta(days=1),
                last_seen_at=end - timedelta(hours=2), outcome=outcome,
                resolved_at=None if outcome is None else end + timedelta(hours=1)))
        session.flush()
        for market_id, seen, implied, engine, comparable in (
                ("a", utc(2025, 12, 4, 17), 0.7, 0.6, True), ("a", utc(2025, 12, 5, 9), 0.95, 0.6, True),
                ("b", utc(2025, 12, 5, 17), 0.4, 0.7, True), ("c", utc(2025, 12, 14, 17), 0.5, 0.5, True),
                ("d", utc(2025, 12, 6, 17), 0.6, None, False)):
            session.add(MarketSnapshotRow(
                market_id=market_id, run_id=run_id, seen_at=seen, implied_probability=implied, volume=1e5,
                liquidity=1e4, comparable=comparable, reason="test", engine_probability=engine,
                signal_as_of=seen if comparable else None, horizon_hours=24.0 if comparable else None,
                line="The crowd leans towards Ethereum closing up within a day.", digest_rank=None))


def test_pairs_come_from_the_store_once_per_resolved_comparable_market(database_url: str) -> None:
    sessions = open_store(database_url)
    store_signal(sessions, "ETH", utc(2025, 12, 4, 10), "BUY", 0.6)
    _seed_markets(sessions)
    with sessions() as session:
        pairs, seen = load_pairs(session)
    assert seen == 4
    assert [(p.market_id, p.market, p.engine, p.outcome) for p in pairs] == [("a", 0.7, 0.6, True),
                                                                             ("b", 0.4, 0.7, False)]


def test_metrics_json_and_the_weekly_summary_say_who_forecasts_better(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    store_signal(sessions, "ETH", utc(2025, 12, 4, 10), "BUY", 0.6)
    _seed_markets(sessions)
    report = evaluate_store(sessions, MARKET, NOW)
    metrics = json.loads((write_artifacts(report, tmp_path / "run") / "metrics.json").read_text())
    markets = metrics["prediction_markets"]
    assert markets["count"] == 2 and markets["markets_seen"] == 4 and markets["by_symbol"] == {"ETH": 2}
    assert markets["brier"]["market"] == pytest.approx((0.3**2 + 0.4**2) / 2)
    assert markets["brier"]["engine"] == pytest.approx((0.4**2 + 0.7**2) / 2)
    assert set(markets["log_loss"]) == {"market", "engine", "climatology"} and markets["best_by_brier"] == "market"
    assert "provisional" in markets["note"] and "prediction_markets" in metrics["definitions"]
    text = build_weekly_summary(sessions, MARKET, NOW, tmp_path / "runs").text
    assert "Who forecasts better: the crowd, the engine, the base rate" in text
    assert "On 2 resolved market questions asked the engine's way: Brier 0.125 for the crowd, 0.325 for the engine" in text


def test_without_any_market_the_evaluation_says_nothing_about_them(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    store_signal(sessions, "ETH", utc(2025, 12, 4, 10), "BUY", 0.6)
    report = evaluate_store(sessions, MARKET, NOW)
    assert report.markets is None
    metrics = json.loads((write_artifacts(report, tmp_path / "run") / "metrics.json").read_text())
    assert metrics["prediction_markets"] is None
    assert "Who forecasts better" not in build_weekly_summary(sessions, MARKET, NOW, tmp_path / "runs").text
