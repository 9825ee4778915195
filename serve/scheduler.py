"""`serve`'s APScheduler: its jobs, kept in the store so that a restart keeps their schedules.

On start the stored jobs are compared with what the settings ask for: a job whose schedule is
unchanged keeps its next run time (a cycle due in five minutes is still due then, a weekly
evaluation missed while the process was down runs if within its grace time); a job whose settings
changed is replaced; a job no longer wanted is removed. Every job coalesces missed runs into one and
never runs twice at once (max_instances=1: an overrunning cycle makes the next one wait, not overlap).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import obj_to_ref
from sqlalchemy.engine import Engine

from serve import jobs
from config import Settings
from storage.serve_models import SCHEDULER_JOBS_TABLE

log = logging.getLogger(__name__)
RETENTION_EVERY = timedelta(days=1)
OUTBOX_CHECK_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class JobSpec:
    id: str
    name: str
    func: Callable[[], Any]
    trigger: BaseTrigger
    misfire_grace_seconds: int
    run_at_start: bool  # first install only: run now rather than one interval from now


def _every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, timezone=timezone.utc)


def _grace(seconds: float) -> int:
    """A run missed by less than one interval still happens (once); older misses are skipped."""
    return max(int(seconds), 1)


def job_specs(settings: Settings) -> list[JobSpec]:
    from eval.schedule import JOB_ID, MISFIRE_GRACE_SECONDS, weekly_trigger

    cycle, tick, digests = settings.cycle_seconds, settings.trading_tick_seconds, settings.digest_check_seconds
    resolve = settings.resolve_minutes * 60
    specs = [
        JobSpec("cycle", "ingest and cycle", jobs.cycle_job, _every(cycle), _grace(cycle), True),
        JobSpec("trading", "trading tick", jobs.trading_job, _every(tick), _grace(tick), True),
        JobSpec("digests", "due digests", jobs.digest_job, _every(digests), _grace(digests), True),
        JobSpec("resolve", "outcome resolution", jobs.resolve_job, _every(resolve), _grace(resolve), False),
        JobSpec(JOB_ID, "weekly evaluation", jobs.weekly_job, weekly_trigger(settings), MISFIRE_GRACE_SECONDS, False),
        JobSpec("outbox", "outbox check", jobs.outbox_job, _every(OUTBOX_CHECK_EVERY.total_seconds()),
                _grace(OUTBOX_CHECK_EVERY.total_seconds()), False),
    ]
    if settings.retention_days > 0:
        day = RETENTION_EVERY.total_seconds()
        specs.append(JobSpec("retention", "artifact retention", jobs.retention_job, _every(day), _grace(day), True))
    return specs


def build_scheduler(engine: Engine) -> AsyncIOScheduler:
    """On the running event loop; jobs in the store's `scheduler_jobs` table (made by the migrations)."""
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)},
        timezone=timezone.utc,
    )
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _on_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s (the process was down or busy past its grace time)",
                    event.job_id, event.scheduled_run_time)
    elif event.code == EVENT_JOB_MAX_INSTANCES:
        log.info("job %s not started: its previous run is still going", event.job_id)
    elif event.exception is not None:
        log.error("job %s raised %s: %s", event.job_id, event.exception.__class__.__name__, event.exception)


def trigger_key(trigger: BaseTrigger) -> tuple[Any, ...]:
    """What a schedule is, without when it was created (an interval trigger's start date moves)."""
    if isinstance(trigger, IntervalTrigger):
        return ("interval", trigger.interval, trigger.jitter)
    if isinstance(trigger, CronTrigger):
        return ("cron", str(trigger), str(trigger.timezone), trigger.jitter)
    return (type(trigger).__name__, repr(trigger))


def unchanged(job: Job, spec: JobSpec) -> bool:
    return (job.func_ref == obj_to_ref(spec.func) and not job.args and not job.kwargs
            and trigger_key(job.trigger) == trigger_key(spec.trigger)
            and job.misfire_grace_time == spec.misfire_grace_seconds and job.coalesce and job.max_instances == 1)


@dataclass(frozen=True)
class Installed:
    kept: tuple[str, ...]
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    removed: tuple[str, ...]


def install_jobs(scheduler: AsyncIOScheduler, specs: Sequence[JobSpec], now: datetime) -> Installed:
    """Make the stored jobs match `specs` (call with the scheduler started paused)."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    kept: list[str] = []
    added: list[str] = []
    replaced: list[str] = []
    for spec in specs:
        job = stored.pop(spec.id, None)
        if job is not None and unchanged(job, spec):
            kept.append(spec.id)
            continue
        options: dict[str, Any] = {}
        if job is None and spec.run_at_start:
            options["next_run_time"] = now
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.name, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=spec.misfire_grace_seconds, **options)
        (added if job is None else replaced).append(spec.id)
    for job_id in stored:
        scheduler.remove_job(job_id)
    result = Installed(tuple(kept), tuple(added), tuple(replaced), tuple(stored))
    log.info("scheduler jobs: kept %s; added %s; replaced %s; removed %s", *(", ".join(ids) or "none" for ids in (
        result.kept, result.added, result.replaced, result.removed)))
    return result


def next_runs(scheduler: AsyncIOScheduler) -> dict[str, datetime | None]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}
