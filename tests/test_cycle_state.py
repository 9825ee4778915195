"""The live cycle's memory: divergence history and a calibrator from the store, and the run artifact."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cycle import run_once
from pipeline.signal_state import divergence_history, resolved_calls
from config import load_settings
from intelligence.base_rate import BaseRate
from intelligence.evidence import has_number
from intelligence.outcomes import resolve_outcome
from intelligence.types import Direction
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.eval_models import OutcomeRow
from storage.models import Run, SignalRow
from tests.conftest import utc

NOW = utc(2026, 11, 21, 9, 0)
AS_OF = utc(2025, 12, 13, 10, 14)  # the embedded snapshot's newest headline
MARKET = EmbeddedMarketData()


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, database_url: str):
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    monkeypatch.setenv("TB_CALIBRATION_MIN_OUTCOMES", "10")
    return open_store(database_url)


def _past_calls(sessions, count: int = 40, symbol: str = "BTC") -> list[SignalRow]:
    """Calls an earlier deployment made, every six hours from 20 November on, alternating sides."""
    with sessions.begin() as session:
        run = Run(started_at=NOW, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        made = [
            SignalRow(run_id=run.id, symbol=symbol, as_of=utc(2025, 11, 20) + timedelta(hours=6 * i),
                      direction=("BUY", "SELL")[i % 2], probability=0.55, conviction=0.1 + 0.02 * i,
                      horizon_hours=24, narrative_score=0.3, price_score=0.1 * (i % 3), divergence=0.3 - 0.1 * (i % 3),
                      reason_codes=["DIVERGENCE_BULLISH"], evidence="", features={})
            for i in range(count)
        ]
        session.add_all(made)
    return made


def test_the_cycle_writes_an_artifact_with_the_numbers_behind_the_digest(store, backend) -> None:
    report = run_once(load_settings(), store, backend, (), MARKET, NOW)
    artifact = json.loads((Path("artifacts") / f"run-{report.run_id}.json").read_text())
    assert artifact["run_id"] == report.run_id and artifact["as_of"] == AS_OF.isoformat()
    assert {s["symbol"] for s in artifact["signals"]} == {s.symbol for s in report.signals}
    eth = next(s for s in artifact["signals"] if s["symbol"] == "ETH")
    features = eth["features"]
    assert set(features["price"]["timescales"]) == {"short", "mid", "long"}
    assert features["divergence"]["threshold"] > 0 and "timescales" in features["divergence"]
    assert features["narrative"]["headline_count"] == len(features["narrative"]["headlines"])
    assert artifact["calibration"]["method"] == "base_rate" and artifact["calibration"]["outcomes"] == 0
    assert artifact["calibration"]["edge"]["status"] == "none yet"
    # The words carry no numbers; the artifact carries them all.
    assert all(not has_number(s["evidence"]) for s in artifact["signals"])


def test_a_broken_artifacts_dir_degrades_the_run_and_says_why(store, backend, monkeypatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("TB_ARTIFACTS_DIR", str(blocker))
    report = run_once(load_settings(), store, backend, (), MARKET, NOW)
    assert report.digest.degraded
    assert any(p.startswith("artifacts: could not write") for p in report.digest.problems)
    with store() as session:
        assert session.get_one(Run, report.run_id).status == "degraded"


def test_earlier_calls_resolve_from_the_bars_known_at_as_of(store) -> None:
    made = _past_calls(store)
    with store() as session:
        calls = resolved_calls(session, MARKET, AS_OF)
    bars = MARKET.bars_until("BTC", AS_OF)
    expected = [resolve_outcome(r.as_of, Direction(r.direction), timedelta(hours=24), bars.bars, bars.interval) for r in made]
    assert len(calls) == len(made) == sum(1 for o in expected if o is not None and o.exit_time < AS_OF)
    assert [c.hit for c in calls] == [o.hit for o in expected]
    # Seen from earlier, the later calls have not resolved yet: nothing from the future.
    with store() as session:
        early = resolved_calls(session, MARKET, utc(2025, 11, 25))
    assert 0 < len(early) < len(made)


def test_stored_outcomes_count_once_known_and_not_before(store) -> None:
    made = _past_calls(store, count=4)
    bars = MARKET.bars_until("BTC", AS_OF)
    truth = resolve_outcome(made[0].as_of, Direction.BUY, timedelta(hours=24), bars.bars, bars.interval)
    with store.begin() as session:
        session.add(OutcomeRow(signal_id=made[0].id, resolved_at=AS_OF, hit=not truth.hit, realized_return=0.0,
                               mfe=0.0, mae=0.0, entry_time=truth.entry_time, entry_price=truth.entry_price,
                               exit_time=truth.exit_time, exit_price=truth.exit_price))
    with store() as session:
        calls = resolved_calls(session, MARKET, AS_OF)
    assert calls[0].hit is (not truth.hit)  # the evaluation's record wins over a fresh resolution


def test_the_live_cycle_calibrates_on_its_own_history(store, backend) -> None:
    _past_calls(store)
    report = run_once(load_settings(), store, backend, (), MARKET, NOW)
    artifact = json.loads((Path("artifacts") / f"run-{report.run_id}.json").read_text())
    calibration = artifact["calibration"]
    assert calibration["outcomes"] == 40 and calibration["edge"]["calls"] == 40
    # Forty calls that claimed a small edge and came out as the market went: no edge proven.
    assert calibration["edge"]["status"] == "none yet"
    btc = calibration["base_rates"]["BTC"]
    assert 0 < btc["up"] < 1 and btc["windows"] > 500  # every 24-hour window of the hourly bars known at as-of
    for signal, row in zip(report.signals, artifact["signals"]):
        assert row["edge"] == signal.edge_status
        if signal.actionable:
            assert signal.calibration_count == 40 and signal.edge_status == "none yet"
            assert "NO_PROVEN_EDGE" in signal.reason_codes and signal.base_rate is not None


def test_calls_bring_the_edge_they_claimed_and_the_base_rate_they_stood_on(store) -> None:
    made = _past_calls(store, count=8)
    with store.begin() as session:
        row = session.get_one(SignalRow, made[0].id)
        row.features = {"probability": {"value": 0.53, "prior": 0.58, "method": "base_rate", "base_rate": 0.47}}
    with store() as session:
        calls = resolved_calls(session, MARKET, AS_OF, {"BTC": BaseRate(0.45, 100)})
    first, second = calls[0], calls[1]
    assert first.edge == pytest.approx(0.08) and first.base == pytest.approx(0.47)  # as stored when it was made
    assert first.cohort == "DIVERGENCE_BULLISH" and first.day == made[0].as_of.date()
    # A call stored before its features kept them: its stated edge, today's base rate for its side.
    assert second.direction is Direction.SELL
    assert second.edge == pytest.approx(0.05) and second.base == pytest.approx(0.55)


def test_divergence_history_is_point_in_time_and_skips_empty_cycles(store) -> None:
    made = _past_calls(store, count=6)
    with store.begin() as session:
        session.get_one(SignalRow, made[2].id).reason_codes = ["NO_NEWS"]
    with store() as session:
        history = divergence_history(session, ["BTC", "ETH"], made[5].as_of, length=10)
    assert history["ETH"] == []
    assert history["BTC"] == [made[i].divergence for i in (0, 1, 3, 4)]  # oldest first, the sixth is as-of itself
