"""The scheduled jobs of `serve`, called as the scheduler calls them, on a real store."""
from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

from serve import jobs
from serve.lease import TRADER, Lease
from config import load_settings
from storage.db import open_store
from storage.models import ProposalRow, Run
from storage.trading_models import OrderRow, ProposalEventRow
from tests.conftest import utc
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401
from tests.serve_fixtures import Clock, serve_context
from tests.snapshot_fixtures import CALL_AS_OF, feeds_until

# Inside the embedded snapshot (its newest headline is 10:14): the simulated broker has fresh bars.
MARKET = utc(2025, 12, 13, 11, 0)


@pytest.fixture(autouse=True)
def no_context_left() -> Iterator[None]:
    yield
    jobs.deactivate()


def test_jobs_do_nothing_without_the_lease_or_a_context(database_url: str, caplog) -> None:
    settings = load_settings(database_url=database_url, sentiment_backend="embedded")
    sessions, clock = open_store(database_url), Clock(MARKET)
    asyncio.run(jobs.cycle_job())  # no context: serve is not running in this process
    serve_context(settings, sessions, clock, hold=False)
    asyncio.run(jobs.cycle_job())
    asyncio.run(jobs.trading_job())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
    assert "job cycle skipped: this process does not hold the trader lease" in caplog.text


def test_the_cycle_job_runs_a_cycle_then_auto_approves_its_proposal_once(database_url: str, tmp_path: Path) -> None:
    # The snapshot cut where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py).
    settings = load_settings(database_url=database_url, sentiment_backend="embedded", auto_approve_probability=0.51,
                             min_probability=0.5, artifacts_dir=tmp_path / "artifacts",
                             feeds_dir=feeds_until(tmp_path / "feeds"))
    sessions, clock = open_store(database_url), Clock(CALL_AS_OF + timedelta(minutes=20))
    context = serve_context(settings, sessions, clock)
    asyncio.run(jobs.cycle_job())
    clock.advance(minutes=15)
    assert context.lease.acquire()  # the heartbeat's renewal meanwhile
    asyncio.run(jobs.cycle_job())  # the same story again, with its trade open: nothing is offered twice
    with sessions() as session:
        runs = session.scalars(select(Run).order_by(Run.id)).all()
        proposals = session.scalars(select(ProposalRow).order_by(ProposalRow.id)).all()
        orders = session.scalars(select(OrderRow).where(OrderRow.role == "entry")).all()
        approvers = session.scalars(select(ProposalEventRow.actor).where(ProposalEventRow.to_status == "approved")).all()
    assert [r.status for r in runs] == ["ok", "ok"]
    assert (tmp_path / "artifacts" / f"run-{runs[0].id}.json").is_file()
    assert [p.status for p in proposals] == ["filled"] and approvers == ["auto-approve"]
    assert [o.proposal_id for o in orders] == [proposals[0].id]


def test_equities_wait_for_the_market_and_crypto_does_not() -> None:
    saturday, tuesday_noon_ny = utc(2026, 3, 7, 15), utc(2026, 3, 10, 16)
    assert jobs.open_universe(["BTC", "SPY"], saturday) == ["BTC"]
    assert jobs.open_universe(["SPY"], saturday) == []
    assert jobs.open_universe(["BTC", "SPY"], tuesday_noon_ny) == ["BTC", "SPY"]


def test_a_cycle_with_only_closed_markets_is_skipped(database_url: str) -> None:
    settings = load_settings(database_url=database_url, sentiment_backend="embedded", universe="SPY")
    sessions = open_store(database_url)
    serve_context(settings, sessions, Clock(utc(2026, 3, 7, 15)))  # a Saturday
    asyncio.run(jobs.cycle_job())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0


def test_runs_left_running_by_a_stopped_process_are_marked_interrupted(database_url: str) -> None:
    sessions = open_store(database_url)
    with sessions.begin() as session:
        session.add_all([Run(started_at=MARKET, status="running", sentiment_backend="embedded", problems=[]),
                         Run(started_at=MARKET + timedelta(minutes=9, seconds=50), status="running",
                             sentiment_backend="embedded", problems=[])])
    assert jobs.mark_interrupted_runs(sessions, MARKET + timedelta(minutes=10), timedelta(minutes=1)) == 1
    with sessions() as session:
        old, recent = session.scalars(select(Run).order_by(Run.id)).all()
    assert old.status == "failed" and "interrupted" in old.problems[0] and old.finished_at is not None
    assert recent.status == "running"  # perhaps another process's cycle, still going


def test_retention_removes_only_old_entries(tmp_path: Path) -> None:
    artifacts, runs = tmp_path / "artifacts", tmp_path / "eval_runs"
    (runs / "20250101T000000Z").mkdir(parents=True)
    (runs / "20250101T000000Z" / "metrics.json").write_text("{}")
    (runs / "20261120T000000Z").mkdir()
    artifacts.mkdir()
    (artifacts / "run-1.json").write_text("{}")
    (artifacts / "run-2.json").write_text("{}")
    old = utc(2025, 1, 2).timestamp()
    for path in (runs / "20250101T000000Z", artifacts / "run-1.json"):
        os.utime(path, (old, old))
    removed = jobs.prune_older_than([artifacts, runs, tmp_path / "absent"], utc(2026, 1, 1))
    assert removed == 2
    assert sorted(p.name for p in artifacts.iterdir()) == ["run-2.json"]
    assert sorted(p.name for p in runs.iterdir()) == ["20261120T000000Z"]


def test_the_retention_job_follows_the_setting(database_url: str, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "run-1.json").write_text("{}")
    os.utime(artifacts / "run-1.json", (utc(2025, 1, 1).timestamp(),) * 2)
    sessions = open_store(database_url)
    keep = load_settings(database_url=database_url, artifacts_dir=artifacts, retention_days=0)
    serve_context(keep, sessions, Clock(utc(2026, 1, 1)))
    asyncio.run(jobs.retention_job())
    assert (artifacts / "run-1.json").exists()
    prune = load_settings(database_url=database_url, artifacts_dir=artifacts, retention_days=30)
    serve_context(prune, sessions, Clock(utc(2026, 1, 1)))
    asyncio.run(jobs.retention_job())
    assert not (artifacts / "run-1.json").exists()


def test_a_failing_job_is_logged_and_does_not_take_the_scheduler_down(database_url: str, caplog) -> None:
    settings = load_settings(database_url=database_url, sentiment_backend="embedded", bars_dir="/nonexistent/bars")
    sessions = open_store(database_url)
    serve_context(settings, sessions, Clock(MARKET))
    asyncio.run(jobs.resolve_job())  # no bar files: the evaluation cannot resolve
    assert "job resolve failed" in caplog.text
    assert not jobs._context.running  # type: ignore[union-attr]


def test_a_lease_lost_mid_run_stops_the_next_job(database_url: str) -> None:
    settings = load_settings(database_url=database_url, sentiment_backend="embedded", lease_seconds=30)
    sessions, clock = open_store(database_url), Clock(MARKET)
    serve_context(settings, sessions, clock)
    clock.advance(seconds=31)  # our renewals stopped coming through; another process took over
    assert Lease(sessions, TRADER, "other", timedelta(seconds=30), clock).acquire()
    asyncio.run(jobs.cycle_job())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
