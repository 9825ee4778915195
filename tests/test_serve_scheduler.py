"""serve's scheduler: jobs persisted in the store, kept across restarts, replaced when settings change."""
from __future__ import annotations

import asyncio
import pickle
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from serve import jobs
from serve.scheduler import build_scheduler, install_jobs, job_specs, next_runs
from config import load_settings
from storage.db import open_store
from storage.serve_models import scheduler_jobs
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401

ALL = ("cycle", "trading", "digests", "resolve", "weekly-evaluation", "outbox", "retention")


def _install(url: str, now: datetime, **overrides: object):
    """One process start: a scheduler on the store, started paused, jobs installed, shut down again."""
    settings = load_settings(database_url=url, **overrides)
    sessions = open_store(url)

    async def start():
        scheduler = build_scheduler(sessions.kw["bind"])
        scheduler.start(paused=True)
        installed = install_jobs(scheduler, job_specs(settings), now)
        runs = next_runs(scheduler)
        options = {job.id: (job.coalesce, job.max_instances, job.misfire_grace_time) for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
        return installed, runs, options

    return asyncio.run(start())


def test_a_restart_keeps_every_schedule(database_url: str) -> None:
    now = datetime.now(timezone.utc)
    first, runs, options = _install(database_url, now, cycle_seconds=600)
    assert set(first.added) == set(ALL) and not first.kept
    assert runs["cycle"] == now and runs["trading"] == now  # a fresh start runs a cycle at once
    assert timedelta(minutes=59) < runs["resolve"] - now < timedelta(minutes=61)  # type: ignore[operator]
    assert all(o[0] and o[1] == 1 for o in options.values())  # coalesced, never two at once
    assert options["cycle"][2] == 600 and options["weekly-evaluation"][2] == 6 * 3600

    second, again, _ = _install(database_url, now + timedelta(minutes=3), cycle_seconds=600)
    assert set(second.kept) == set(ALL) and not (second.added or second.replaced or second.removed)
    assert again == runs  # the cycle due now is still due now; nothing was pushed back by the restart


def test_changed_settings_replace_only_their_jobs(database_url: str) -> None:
    now = datetime.now(timezone.utc)
    _install(database_url, now, cycle_seconds=600)
    later = now + timedelta(minutes=1)
    changed, runs, options = _install(database_url, later, cycle_seconds=300, weekly_eval_day="fri", retention_days=0)
    assert set(changed.replaced) == {"cycle", "weekly-evaluation"} and changed.removed == ("retention",)
    assert set(changed.kept) == {"trading", "digests", "resolve", "outbox"}
    assert options["cycle"][2] == 300 and runs["weekly-evaluation"].weekday() == 4  # type: ignore[union-attr]


def test_stored_jobs_name_a_function_and_carry_no_live_objects(database_url: str) -> None:
    _install(database_url, datetime.now(timezone.utc))
    sessions = open_store(database_url)
    with sessions() as session:
        rows = session.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.job_state)).all()
    assert {r.id for r in rows} == set(ALL)
    for row in rows:
        state = pickle.loads(row.job_state)
        assert state["func"].startswith("serve.jobs:") and state["args"] == () and state["kwargs"] == {}
        assert callable(getattr(jobs, state["func"].split(":")[1]))


def test_missed_runs_run_once_within_their_grace_and_are_skipped_past_it(database_url: str, caplog) -> None:
    """The process was down: the cycle was due 30 s ago, the trading tick every minute for ten minutes,
    the weekly evaluation a day ago (its grace is six hours)."""
    now = datetime.now(timezone.utc)
    yesterday = now - timedelta(days=1)
    settings = load_settings(database_url=database_url, cycle_seconds=60, trading_tick_seconds=60,
                             weekly_eval_day=yesterday.strftime("%a").lower(), weekly_eval_time=yesterday.strftime("%H:%M"))
    sessions = open_store(database_url)

    async def scenario() -> None:
        scheduler = build_scheduler(sessions.kw["bind"])
        scheduler.start(paused=True)
        install_jobs(scheduler, job_specs(settings), now)
        for job in scheduler.get_jobs():
            job.modify(next_run_time=now + timedelta(hours=1))
        scheduler.get_job("cycle").modify(next_run_time=now - timedelta(seconds=30))
        scheduler.get_job("trading").modify(next_run_time=now - timedelta(minutes=10))
        scheduler.get_job("weekly-evaluation").modify(next_run_time=yesterday.replace(second=0, microsecond=0))
        # A context whose lease is not held: each job that fires says so in the log and does nothing.
        jobs.activate(SimpleNamespace(stopping=False, lease=SimpleNamespace(held=lambda: False)))  # type: ignore[arg-type]
        try:
            scheduler.resume()
            await asyncio.sleep(0.5)
        finally:
            scheduler.shutdown(wait=False)
            jobs.deactivate()

    asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    fired = sorted(m.split()[1] for m in messages if m.startswith("job ") and "skipped" in m)
    assert fired == ["cycle", "trading"]  # ten missed ticks coalesce into one
    assert any(m.startswith("job weekly-evaluation missed its run") for m in messages)
