"""The cycle with TB_POLYMARKET=on against the loopback Gamma fake: section data, artifact, store, outages."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Iterator

import pytest
from sqlalchemy import func, select

from config import load_settings
from pipeline.cycle import run_once
from pipeline.markets import _unresolved, stored_section
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.market_models import MarketSnapshotRow, PredictionMarketRow
from storage.provider_models import BreakerRow
from tests.conftest import utc
from tests.fake_gamma import FakeGamma, crypto_week, gamma_event, gamma_market
from tests.snapshot_fixtures import CALL_AS_OF, feeds_until

AS_OF = CALL_AS_OF  # the snapshot cut where the engine makes its one call: BTC SELL (tests/snapshot_fixtures.py)
NOW = utc(2025, 12, 11, 21, 56)  # a run as if live then: the quotes and the calls are of one moment
LADDER = "Will the price of Bitcoin be above $92,000 on December 12?"
EMBEDDED = EmbeddedMarketData()
CLOSES = {s: EMBEDDED.bars_until(s, AS_OF).bars[-1].close for s in ("BTC", "ETH", "XRP")}


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


@pytest.fixture
def gamma() -> Iterator[FakeGamma]:
    nvda = utc(2025, 12, 13, 21)
    events = crypto_week(NOW, CLOSES) + [gamma_event("950001", "NVIDIA (NVDA) closes above ___ today?", "nvda", nvda, [
        gamma_market("950002", "Will NVIDIA (NVDA) close above $180 on December 13?", (0.6, 0.4), nvda)])]
    server = FakeGamma(events=events).start()
    yield server
    server.stop()


@pytest.fixture
def env(gamma: FakeGamma, database_url: str, tmp_path):
    settings = load_settings(database_url=database_url, artifacts_dir=tmp_path / "artifacts", polymarket=True,
                             feeds_dir=feeds_until(tmp_path / "feeds"),
                             polymarket_base_url=gamma.url, provider_read_timeout_seconds=0.5, breaker_failures=2)
    return settings, open_store(database_url)


def _run(env, backend, now=NOW):
    settings, sessions = env
    return run_once(settings, sessions, backend, (), EMBEDDED, now)


def _artifact(env, report) -> dict:
    settings, _ = env
    return json.loads((settings.artifacts_dir / f"run-{report.run_id}.json").read_text())


def test_the_section_is_in_the_digest_and_the_numbers_in_the_artifact(env, backend, gamma) -> None:
    report = _run(env, backend)
    section = report.digest.prediction_markets
    assert section is not None and not report.digest.degraded and section.note is None
    btc = {s.symbol: s for s in report.signals}["BTC"]
    assert btc.direction.value == "SELL"  # the cut's one call: the comparisons below rest on it
    lines = [line for line in section.lines if line.symbol == "BTC"]
    assert [line.comparable for line in lines] == [True, False, False]
    assert lines[0].line == ("The crowd is split on Bitcoin ending above about today's price within a day; "
                             "our reading of the news is bearish.")
    assert not any(ch.isdigit() for line in section.lines for ch in line.line)
    assert section.count("seen") == 51 and section.count("comparable") == 1 and section.count("shown") == 9
    assert section.count("names no asset of the universe") == 1  # NVIDIA is not in the universe
    # The quarter-hour and hourly candles of BTC, ETH and XRP say nothing about a day: left out, not stored.
    assert section.count("a candle much shorter than the engine's horizon") == 6
    assert section.count("not a price question") == 1 and section.count("thin: liquidity below the minimum") == 1
    assert section.count("malformed: outcomePrices is not JSON") == 1
    assert section.count("malformed: an outcome price outside 0..1") == 1
    markets = {m["question"]: m for m in _artifact(env, report)["prediction_markets"]["markets"]}
    ladder = markets[LADDER]  # settles at noon in New York the next day: within the engine's 24 hours
    assert ladder["comparable"] and ladder["implied_probability"] == pytest.approx(0.466)
    # The engine's SELL at p is a 1 - p chance of ending above: the same question the crowd answers.
    assert ladder["engine_probability"] == pytest.approx(1 - btc.probability) and ladder["engine_direction"] == "SELL"
    daily = markets["Bitcoin Up or Down on December 13?"]  # 43 hours away: not the engine's question
    assert not daily["comparable"] and daily["comparison"] == "the market ends too far from the end of the engine's horizon"
    eth = markets["Ethereum Up or Down on December 13?"]
    assert not eth["comparable"] and eth["comparison"] == "the engine made no call (HOLD)"
    assert eth["engine_probability"] is None
    [call] = gamma.calls("/events")
    assert call["tag_slug"] == ["crypto"] and call["end_date_min"] == ["2025-12-11T21:56:00Z"]


def test_every_matched_market_is_stored_and_resolutions_follow(env, backend, gamma) -> None:
    first = _run(env, backend)
    _, sessions = env
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(PredictionMarketRow))
        snapshots = list(session.scalars(select(MarketSnapshotRow)))
        ladder = session.scalars(select(PredictionMarketRow).where(PredictionMarketRow.question == LADDER)).one()
    matched = first.digest.prediction_markets.count("matched")
    assert stored == matched == len(snapshots) == 42
    assert (ladder.symbol, ladder.outcome, ladder.end_at) == ("BTC", None, utc(2025, 12, 12, 17))
    snap = next(s for s in snapshots if s.market_id == ladder.market_id)
    assert snap.comparable and snap.implied_probability == pytest.approx(0.466) and snap.run_id == first.run_id
    assert snap.signal_as_of == AS_OF and snap.horizon_hours == 24
    with sessions() as session:  # what /digest and /markets will show after the fact: the section as the cycle had it
        assert stored_section(session, first.run_id) == first.digest.prediction_markets

    # A day and a half later the market has closed Yes: the next cycle asks for it by id and stores the outcome.
    for event in gamma.events:
        for market in event["markets"]:
            if market["id"] == ladder.market_id:
                market.update(closed=True, outcomePrices=json.dumps(["1", "0"]), umaResolutionStatus="resolved")
    later = NOW + timedelta(days=1, hours=12)
    second = _run(env, backend, now=later)
    by_id = gamma.calls("/markets")
    assert by_id and ladder.market_id in by_id[0]["id"]
    with sessions() as session:
        resolved = session.get_one(PredictionMarketRow, ladder.market_id)
        assert resolved.outcome is True and resolved.resolved_at == later
    assert _artifact(env, second)["prediction_markets"]["resolved_this_cycle"][ladder.market_id] == "yes"
    # The quotes are of `later`, the calls still of the snapshot: no comparison, and the section says why.
    assert second.digest.prediction_markets.count("comparable") == 0
    assert "read live" in second.digest.prediction_markets.note


@pytest.mark.parametrize("mode, problem", [
    ("down", "Polymarket: HTTP 503 from {url}/events"),
    ("garbage", "Polymarket: {url}/events answered with something that is not JSON"),
    ("slow", "Polymarket: no answer from {url}/events in time (read timeout, 0.5 s)"),
])
def test_polymarket_down_degrades_the_run_and_the_digest_still_comes(env, backend, gamma, mode, problem) -> None:
    gamma.mode, gamma.delay = mode, 2.0
    report = _run(env, backend)
    expected = problem.format(url=gamma.url)
    assert report.digest.degraded and expected in report.digest.problems
    assert len(report.signals) == 11 and report.digest.items  # the rest of the cycle is untouched
    section = report.digest.prediction_markets
    assert section is not None and not section.lines and section.note.startswith("Polymarket could not be read")
    assert expected in _artifact(env, report)["problems"]
    _run(env, backend, now=NOW + timedelta(minutes=1))  # the second failure in a row opens the breaker
    _, sessions = env
    with sessions() as session:
        breaker = session.get_one(BreakerRow, "polymarket")
        assert breaker.state == "open" and breaker.failures == 2
    calls = len(gamma.requests)
    third = _run(env, backend, now=NOW + timedelta(minutes=2))
    assert len(gamma.requests) == calls  # a restart inside the cool-down leaves Polymarket alone
    assert any(p.startswith("Polymarket: not fetched: circuit open") for p in third.digest.problems)


def test_off_by_default_asks_nothing(env, backend, gamma, database_url) -> None:
    settings = load_settings(database_url=database_url, polymarket_base_url=gamma.url)
    report = run_once(settings, open_store(database_url), backend, (), EMBEDDED, NOW)
    assert report.digest.prediction_markets is None and gamma.requests == []


def test_a_market_unsettled_long_after_its_end_is_no_longer_asked_about(env, backend) -> None:
    _run(env, backend)
    _, sessions = env
    later = NOW + timedelta(days=60)
    with sessions.begin() as session:
        stale, recent = session.scalars(select(PredictionMarketRow).order_by(PredictionMarketRow.market_id).limit(2))
        stale.end_at, recent.end_at = later - timedelta(days=31), later - timedelta(days=1)
    waiting = _unresolved(sessions, later)
    assert recent.market_id in waiting and stale.market_id not in waiting


def test_retention_drops_old_quotes_no_evaluation_reads(env, backend) -> None:
    from pipeline.markets import PRUNE_BATCH, prune_snapshots

    first = _run(env, backend)
    _, sessions = env
    assert prune_snapshots(sessions, NOW - timedelta(days=1)) == 0  # nothing is that old
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(MarketSnapshotRow))
        comparable = session.scalar(select(func.count()).select_from(MarketSnapshotRow).where(MarketSnapshotRow.comparable))
    assert comparable >= 1 and stored > comparable and stored < PRUNE_BATCH
    assert prune_snapshots(sessions, NOW + timedelta(days=1)) == stored - comparable
    with sessions() as session:
        kept = list(session.scalars(select(MarketSnapshotRow)))
        assert len(kept) == comparable and all(s.comparable and s.run_id == first.run_id for s in kept)
        assert session.scalar(select(func.count()).select_from(PredictionMarketRow)) > 0  # the markets stay
