"""The serve loop in this process: start-up failures, standing by, losing the lease, a clean stop."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from service.composition import utcnow
from serve.lease import TRADER, Lease, current_lease
from serve.loop import ServeExit, serve
from config import load_settings
from storage.db import open_store
from storage.models import Run
from storage.serve_models import LeaseRow, scheduler_jobs
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


def _settings(url: str, tmp: Path, **extra: object):
    values: dict[str, object] = dict(database_url=url, sentiment_backend="embedded", artifacts_dir=tmp / "artifacts",
                                     lease_seconds=3, cycle_seconds=1)
    return load_settings(**{**values, **extra})


def test_a_second_process_exits_when_told_to(database_url: str, tmp_path: Path, caplog) -> None:
    sessions = open_store(database_url)
    Lease(sessions, TRADER, "other-host:7:beef", timedelta(minutes=5), utcnow).acquire()
    result = asyncio.run(serve(_settings(database_url, tmp_path, standby="exit"), utcnow))
    assert result.code is ServeExit.STANDBY_EXIT
    assert "another serve holds the trader lease: other-host:7:beef (until " in caplog.text
    assert current_lease(sessions).holder == "other-host:7:beef"  # type: ignore[union-attr]


def test_a_start_that_fails_releases_the_lease(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path, sentiment_backend="finbert", finbert_model=str(tmp_path / "none"))
    with pytest.raises(Exception, match="FinBERT|finbert|none"):
        asyncio.run(serve(settings, utcnow))
    lease = current_lease(open_store(database_url))
    assert lease is not None and not lease.active(utcnow())


def test_runs_cycles_then_stops_cleanly_on_sigterm(database_url: str, tmp_path: Path, caplog) -> None:
    sessions = open_store(database_url)

    def cycles() -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).select_from(Run).where(Run.status == "ok")) or 0

    async def scenario():
        task = asyncio.create_task(serve(_settings(database_url, tmp_path), utcnow))
        for _ in range(600):  # two cycles take about two seconds; a busy machine gets thirty
            await asyncio.sleep(0.05)
            if cycles() >= 2:
                break
        os.kill(os.getpid(), signal.SIGTERM)  # the loop's handler turns it into a clean stop
        return await asyncio.wait_for(task, 30)

    result = asyncio.run(scenario())
    assert result.code is ServeExit.OK and not result.abandoned and cycles() >= 2
    assert "serve stopped; trader lease released" in caplog.text
    assert not current_lease(sessions).active(utcnow())  # type: ignore[union-attr]
    with sessions() as session:
        assert {row.id for row in session.execute(select(scheduler_jobs.c.id))} >= {"cycle", "trading", "digests"}


def test_losing_the_lease_stops_the_active_side(database_url: str, tmp_path: Path, caplog) -> None:
    sessions = open_store(database_url)

    async def scenario():
        ready = asyncio.Event()
        task = asyncio.create_task(serve(_settings(database_url, tmp_path, standby="exit"), utcnow, lambda _: ready.set()))
        await asyncio.wait_for(ready.wait(), 30)
        with sessions.begin() as session:  # another process took it over (say, our renewals were lost)
            session.execute(update(LeaseRow).values(holder="usurper", expires_at=utcnow() + timedelta(minutes=5)))
        return await asyncio.wait_for(task, 30)

    result = asyncio.run(scenario())
    assert result.code is ServeExit.LEASE_LOST
    assert "lost the trader lease" in caplog.text and "serve stopped; trader lease lost" in caplog.text
    assert current_lease(sessions).holder == "usurper"  # type: ignore[union-attr]  # not released by the loser
