"""Two `serve` processes on one store: the second exits or stands by, and takes over when the first stops
cleanly (at once) or dies (once its lease has run out); never are two active at the same time."""
from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path

import pytest

from serve.lease import current_lease
from storage.db import open_store
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401
from tests.serve_harness import ServeProcess

pytestmark = pytest.mark.slow  # four processes and a lease running out: about twenty seconds
LEASE = 4.0


def _when(process: ServeProcess, text: str) -> datetime:
    found = [line["time"] for line in process.read() if text in line.get("message", "")]
    assert found, f"{text!r} not in the log"
    return datetime.fromisoformat(found[0])


def test_one_trader_at_a_time(database_url: str, tmp_path: Path) -> None:
    env = {"TB_DATABASE_URL": database_url, "TB_SENTIMENT_BACKEND": "embedded", "TB_CYCLE_SECONDS": "2",
           "TB_LEASE_SECONDS": str(LEASE), "TB_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "TB_LOG_LEVEL": "info"}
    open_store(database_url)  # migrated once, before four processes start on it
    asyncio.run(_scenario(env, tmp_path, database_url))


async def _scenario(env: dict[str, str], tmp: Path, url: str) -> None:
    processes: list[ServeProcess] = []

    async def start(name: str, **extra: str) -> ServeProcess:
        process = await ServeProcess({**env, **extra}, tmp, tmp / f"{name}.log").start()
        processes.append(process)
        return process

    try:
        first = await start("first")
        await first.wait_log("serve ready as", 60)
        await first.wait_log("cycle run 1 ", 30)

        leaving = await start("leaving", TB_STANDBY="exit")
        assert await asyncio.wait_for(leaving.process.wait(), 60) == 3  # type: ignore[union-attr]
        holder = current_lease(open_store(url)).holder  # type: ignore[union-attr]
        assert any(f"another serve holds the trader lease: {holder}" in m and "exiting (TB_STANDBY=exit)" in m
                   for m in leaving.messages())

        waiting = await start("waiting")
        await waiting.wait_log("standing by to take over", 60)
        await asyncio.sleep(LEASE)  # several of its re-checks: it must stay a bystander meanwhile
        assert not any("serve ready" in m or "cycle run" in m for m in waiting.messages())

        assert await first.stop() == 0  # a clean stop releases the lease: the standby takes over at once
        await waiting.wait_log("serve ready as", 30)
        # Taken within one of its re-checks (LEASE / 3), long before the lease would have run out; how long
        # the bot and the scheduler then take to start is the machine's load, not the handover.
        handover = _when(waiting, "took over the trader lease") - _when(first, "serve stopped; trader lease released")
        assert 0 <= handover.total_seconds() < LEASE
        await waiting.wait_log("cycle run", 30)

        crashing = waiting
        last = await start("last")
        await last.wait_log("standing by to take over", 60)
        crashing.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]  # no release this time
        await crashing.process.wait()  # type: ignore[union-attr]
        killed_at = datetime.now().astimezone()
        await last.wait_log("serve ready as", 30)
        # Not before the dead holder's lease ran out: it was renewed at most LEASE / 3 before the kill.
        assert (_when(last, "serve ready as") - killed_at).total_seconds() > LEASE * 2 / 3 - 0.5
        assert await last.stop() == 0
    finally:
        for process in processes:
            await process.kill()


def test_a_cycle_that_outlives_the_grace_is_abandoned_and_marked_at_the_next_start(database_url: str,
                                                                                   tmp_path: Path) -> None:
    from sqlalchemy import select

    from storage.models import Run
    from tests.feed_server import FeedServer, Route

    feeds = FeedServer().start()
    feeds.routes["/slow"] = Route(b"<rss version='2.0'><channel><title>t</title></channel></rss>", delay=4.0)
    env = {"TB_DATABASE_URL": database_url, "TB_SENTIMENT_BACKEND": "embedded", "TB_CYCLE_SECONDS": "60",
           "TB_LEASE_SECONDS": "3", "TB_SHUTDOWN_GRACE_SECONDS": "0.5", "TB_NEWS_SOURCES": "rss",
           "TB_FEEDS": f'{{"Slow": "{feeds.url("/slow")}"}}', "TB_ARTIFACTS_DIR": str(tmp_path / "artifacts")}
    sessions = open_store(database_url)

    def running() -> list[int]:
        with sessions() as session:
            return list(session.scalars(select(Run.id).where(Run.status == "running")))

    async def scenario() -> None:
        first = await ServeProcess(env, tmp_path, tmp_path / "serve.log").start()
        second = None
        try:
            await first.wait_for(lambda: bool(running()), 60, "a cycle waiting for the slow feed")
            assert await first.stop(timeout=10) == 0
            assert any("job(s) cycle still running after 0 s" in m for m in first.messages())
            assert running() and not current_lease(sessions).active(datetime.now().astimezone())  # type: ignore[union-attr]
            await asyncio.sleep(3)
            # The snapshot this time: no request of the second process is left waiting on the slow feed.
            calm = {**env, "TB_CYCLE_SECONDS": "3600", "TB_NEWS_SOURCES": "embedded"}
            second = await ServeProcess(calm, tmp_path, tmp_path / "serve.log").start()
            await second.wait_log("serve ready as", 60)
            assert any("1 cycle(s) left running by a stopped process marked failed" in m for m in second.messages())
        finally:
            await first.kill()
            if second is not None:
                await second.kill()

    try:
        asyncio.run(scenario())
    finally:
        feeds.stop()
    with sessions() as session:
        first_run = session.scalars(select(Run).order_by(Run.id)).first()
    assert first_run is not None and first_run.status == "failed" and "interrupted" in first_run.problems[0]
