"""The weekly evaluation job on an APScheduler scheduler: when it runs, and how a summary reaches a sender.

`serve` owns the scheduler and the chat channels; this module only adds one job to it. The job is
a coroutine (for AsyncIOScheduler, the scheduler python-telegram-bot's loop runs): the evaluation
itself is blocking work (database, numpy, matplotlib) and runs in a worker thread so the bot keeps
answering while it is made.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import datetime
from typing import Callable

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from config import Settings
from eval.summary import WeeklySummary
from eval.weekly import failure_summary

log = logging.getLogger(__name__)
JOB_ID = "weekly-evaluation"
# A scheduler that was down at the set time still posts within this many seconds of it, once.
MISFIRE_GRACE_SECONDS = 6 * 3600

Produce = Callable[[datetime], WeeklySummary]
Sender = Callable[[WeeklySummary], object]  # a coroutine is awaited; any other result is ignored
Clock = Callable[[], datetime]


def weekly_trigger(settings: Settings) -> CronTrigger:
    at = settings.weekly_eval_time
    return CronTrigger(day_of_week=settings.weekly_eval_day, hour=at.hour, minute=at.minute,
                       timezone=settings.weekly_eval_timezone)


async def publish_weekly(produce: Produce, send: Sender, clock: Clock) -> WeeklySummary:
    """Make the summary and hand it to `send`; a failed evaluation is sent as a plain failure message."""
    now = clock()
    try:
        summary = await asyncio.to_thread(produce, now)
    except Exception as exc:  # any failure must reach the subscribers as a sentence, never as silence
        log.exception("weekly evaluation failed")
        summary = failure_summary(now, f"{exc.__class__.__name__}: {exc}")
    result = send(summary)
    if inspect.isawaitable(result):
        await result
    return summary


def add_weekly_job(scheduler: BaseScheduler, settings: Settings, produce: Produce, send: Sender, clock: Clock) -> Job:
    """Add (or replace) the weekly job; returns it so the caller can show its next run time."""
    return scheduler.add_job(
        publish_weekly, weekly_trigger(settings), args=(produce, send, clock), id=JOB_ID, name="weekly evaluation",
        replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )
