"""The whole cycle on the bundled feeds and bars, into a temporary SQLite store."""
from __future__ import annotations

import csv
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.cycle import CycleError, run_once
from service.composition import build_app
from trading.proposal_builder import OutcomeCode, ProposalOutcome
from config import load_settings
from intelligence.evidence import has_number
from intelligence.types import Direction
from providers.bars import EmbeddedMarketData
from providers.feeds import EMBEDDED_FEEDS_DIR
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.models import HeadlineRow, ProposalRow, Run, SentimentRow, SignalRow
from tests.conftest import utc
from tests.snapshot_fixtures import CALL_AS_OF, feeds_until

NOW = utc(2026, 11, 21, 9, 0)
AS_OF = utc(2025, 12, 13, 10, 14)
BARS_DIR = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "bars"


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str):
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    settings = load_settings()
    return settings, open_store(database_url)


def _run(env, backend, market=None, now=NOW):
    settings, sessions = env
    return run_once(settings, sessions, backend, (), market or EmbeddedMarketData(), now)


def _bar_start(text: str) -> datetime:
    # Seven of the nine files omit the offset; all of them are UTC.
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _last_close_before(symbol: str, as_of: datetime) -> float:
    hourly = BARS_DIR / f"{symbol}USDT_1h.csv"
    path, time, close, span = (hourly, "timestamp", "close", timedelta(hours=1)) if hourly.exists() else (
        BARS_DIR / f"{symbol}_1d.csv", "date", "close", timedelta(days=1))  # the two stocks: daily, by session
    with open(path) as handle:
        rows = [{k.lower(): v for k, v in r.items()} for r in csv.DictReader(handle)]
    closed = [r for r in rows if _bar_start(r[time]) + span <= as_of]
    return float(closed[-1][close])


def test_cycle_on_embedded_defaults(env, backend) -> None:
    report = _run(env, backend)
    digest = report.digest
    assert digest.as_of == AS_OF and digest.headline_count == 152 and not digest.degraded
    assert digest.as_of_basis == "newest headline in the snapshot"
    assert [i.rank for i in digest.items] == list(range(1, 12))
    # Coins and stocks ranked together, each in its own rhythm (hourly around the clock, daily by session).
    assert {i.symbol for i in digest.items} == {"BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "COIN", "MSTR"}
    assert {i.name for i in digest.items if i.symbol in ("COIN", "MSTR")} == {"Coinbase", "Strategy"}
    # Evidence lines carry no numbers and are not one template filled in twice.
    assert not any(has_number(i.evidence) for i in digest.items)
    assert len({i.evidence for i in digest.items}) == len(digest.items)
    # The tape the signal read is the last bar closed by as-of, straight from the CSV.
    for signal in report.signals:
        assert signal.price.last_close == _last_close_before(signal.symbol, AS_OF)
        assert signal.price.last_bar_end <= AS_OF
        assert (signal.probability is None) == (signal.direction is Direction.HOLD)
    # The one lean of the snapshot (ETH) rests on a question headline, which counts as speculation:
    # nothing to act on, and the evidence says what it was.
    assert not any(s.actionable for s in report.signals)
    eth = next(i for i in digest.items if i.symbol == "ETH")
    assert "Can ETH reach \u2026?\u201d, a question rather than a report" in eth.evidence


@pytest.fixture
def call_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path):
    """The snapshot cut where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py)."""
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    monkeypatch.setenv("TB_FEEDS_DIR", str(feeds_until(tmp_path / "feeds")))
    return load_settings(), open_store(database_url)


def test_run_is_persisted_and_proposal_waits_for_an_operator(call_env, backend) -> None:
    settings, sessions = call_env
    report = _run(call_env, backend)
    with sessions() as session:
        run = session.get_one(Run, report.run_id)
        assert run.status == "ok" and run.as_of == CALL_AS_OF and run.sentiment_backend == "embedded"
        assert session.scalar(select(func.count()).select_from(HeadlineRow)) == 31
        assert session.scalar(select(func.count()).select_from(SignalRow)) == 11
        proposal = session.get_one(ProposalRow, report.proposal_id)
        strongest = next(s for s in report.signals if s.symbol == proposal.symbol)
    assert proposal.status == "proposed" and proposal.quantity > 0
    assert proposal.side == strongest.direction.value.lower()
    assert report.proposal == ProposalOutcome(OutcomeCode.PROPOSED, proposal.id, proposal.symbol, proposal.side)

    status = build_app(settings, sessions=sessions, clock=lambda: NOW + timedelta(minutes=5)).service.status()
    assert [p.id for p in status.pending_proposals] == [proposal.id]
    assert status.last_run == NOW and status.sentiment_backend == "embedded" and not status.paused

    later = build_app(settings, sessions=sessions, clock=lambda: NOW + timedelta(days=1)).service
    assert later.status().pending_proposals == ()
    assert [p.status for p in later.proposals(include_closed=True)] == ["expired"]


def test_each_text_is_scored_once(env, backend) -> None:
    _, sessions = env
    _run(env, backend)
    with sessions() as session:
        first = session.scalar(select(func.count()).select_from(SentimentRow))
    second = _run(env, backend, now=NOW + timedelta(hours=1))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SentimentRow)) == first > 0
        assert session.scalar(select(func.count()).select_from(HeadlineRow)) == 152
    assert second.digest.items  # and the cached scores still make a digest


def test_a_waiting_proposal_is_not_proposed_again_each_cycle(call_env, backend) -> None:
    first = _run(call_env, backend)
    assert first.proposal_id is not None
    again = _run(call_env, backend, now=NOW + timedelta(hours=1))
    assert again.proposal_id is None
    assert again.proposal.code is OutcomeCode.STILL_WAITING and again.proposal.id == first.proposal_id
    later = _run(call_env, backend, now=NOW + timedelta(days=1))  # the first one has expired by then
    # The same data makes the same signal, and a signal is proposed once, whatever became of it.
    assert later.proposal_id is None and later.proposal.code is OutcomeCode.ALREADY_PROPOSED
    assert (later.proposal.id, later.proposal.skipped[0].status) == (first.proposal_id, "expired")


def test_bars_after_as_of_cannot_change_a_signal(env, backend, tmp_path: Path) -> None:
    baseline = _run(env, backend).signals
    altered = tmp_path / "bars"
    altered.mkdir()
    for path in BARS_DIR.glob("*.csv"):
        lines = path.read_text().splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            ts, *values = line.split(",")
            if _bar_start(ts) + timedelta(hours=1) > AS_OF:
                values = [str(float(v) * 3) for v in values]  # the future, rewritten wildly
            out.append(",".join([ts, *values]))
        (altered / path.name).write_text("\n".join(out) + "\n")
    changed = _run(env, backend, EmbeddedMarketData(altered), now=NOW + timedelta(hours=1)).signals
    assert [(s.symbol, s.direction, s.probability, s.price.score) for s in changed] == [
        (s.symbol, s.direction, s.probability, s.price.score) for s in baseline
    ]


def test_a_malformed_feed_degrades_the_cycle_but_keeps_the_rest(env, backend, monkeypatch, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    shutil.copytree(EMBEDDED_FEEDS_DIR, feeds)
    (feeds / "broken.rss").write_text("<rss><channel><item><title>cut off")
    monkeypatch.setenv("TB_FEEDS_DIR", str(feeds))
    settings = load_settings()
    report = run_once(settings, env[1], backend, (), EmbeddedMarketData(), NOW)
    assert report.digest.degraded and report.digest.headline_count == 152
    assert any(p.startswith("broken: malformed feed") for p in report.digest.problems)
    with env[1]() as session:
        assert session.get_one(Run, report.run_id).status == "degraded"


def test_a_gap_in_bars_is_marked(env, backend, tmp_path: Path) -> None:
    bars = tmp_path / "bars"
    shutil.copytree(BARS_DIR, bars)
    path = bars / "ETHUSDT_1h.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1000] + lines[1006:]) + "\n")  # six hours missing, before as-of
    report = _run(env, backend, EmbeddedMarketData(bars))
    assert report.digest.degraded
    assert any("ETH" in p and "gap" in p for p in report.digest.problems)
    assert len(report.signals) == 11


def test_no_headlines_fails_the_run_with_a_reason(env, backend, monkeypatch, tmp_path: Path) -> None:
    empty = tmp_path / "feeds"
    empty.mkdir()
    (empty / "quiet.rss").write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Q</title></channel></rss>')
    monkeypatch.setenv("TB_FEEDS_DIR", str(empty))
    with pytest.raises(CycleError, match="no headlines could be read: quiet: feed has no items"):
        run_once(load_settings(), env[1], backend, (), EmbeddedMarketData(), NOW)
    with env[1]() as session:
        run = session.scalars(select(Run)).one()
    assert run.status == "failed" and "feed has no items" in run.problems[0]


def test_a_filled_trade_is_not_offered_again_on_the_next_cycle(call_env, backend) -> None:
    settings, sessions = call_env
    first = _run(call_env, backend)
    service = build_app(settings, sessions=sessions, clock=lambda: NOW + timedelta(minutes=2)).service
    assert service.approve(first.proposal_id, "alice").ok
    again = _run(call_env, backend, now=NOW + timedelta(minutes=20))
    assert again.proposal_id is None and again.proposal.code is OutcomeCode.HOLDING
    assert [(s.symbol, s.code) for s in again.proposal.skipped] == [(first.proposal.symbol, OutcomeCode.HOLDING)]
    service.close(first.proposal.symbol or "", "alice", confirm=True)
    after = _run(call_env, backend, now=NOW + timedelta(minutes=40))  # flat again, but the same signal was traded
    assert after.proposal_id is None and after.proposal.code is OutcomeCode.ALREADY_PROPOSED


def test_paused_trading_makes_no_proposal(env, backend) -> None:
    settings, sessions = env
    build_app(settings, sessions=sessions, clock=lambda: NOW).service.pause("test")
    report = _run(env, backend)
    assert report.proposal_id is None and report.proposal.code is OutcomeCode.PAUSED
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProposalRow)) == 0
