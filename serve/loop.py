"""`serve`: one event loop with the chat side and the scheduler, run by whoever holds the trader lease.

A process first takes the lease (serve/lease.py). Without it, it stands by and tries again every
third of a lease, or exits (TB_STANDBY). With it, it starts the chat runtime and the scheduler and
renews the lease in the background; losing it (another process took over after a renewal failed)
stops the active side at once. SIGINT/SIGTERM stop it cleanly: no new job starts, a running cycle
may finish for TB_SHUTDOWN_GRACE_SECONDS, the outbox is flushed, the bot and the broker session are
closed and the lease is released so a standby takes over without waiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from serve.lease import TRADER, Lease, current_lease, new_holder_id
from serve.systemd import Notifier

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from serve import jobs
from config import Settings
from storage.db import Sessions, open_store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
FLUSH_SECONDS = 10.0  # the outbox gets this long at shutdown; what is left waits for the next start


class Ended(enum.Enum):
    STOPPED = "stopped"  # SIGINT/SIGTERM
    LOST = "lost"  # the lease went to another process
    ABANDONED = "abandoned"  # stopped, but a job outlived the grace time (its transaction rolls back)


class ServeExit(enum.IntEnum):
    OK = 0
    STANDBY_EXIT = 3  # another process holds the lease and TB_STANDBY=exit
    LEASE_LOST = 4  # TB_STANDBY=exit and the lease was lost while running


@dataclass(frozen=True)
class ServeResult:
    code: ServeExit
    abandoned: bool = False  # a job outlived the grace time: exit without waiting for its thread


async def serve(settings: Settings, clock: Clock, ready: Callable[[str], None] = lambda _: None) -> ServeResult:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sessions = await asyncio.to_thread(open_store, settings.database_url)
    lease = Lease(sessions, TRADER, new_holder_id(), timedelta(seconds=settings.lease_seconds), clock)
    log.info("serve %s starting", lease.holder)
    notifier = Notifier.from_environ()  # systemd's Type=notify; does nothing outside systemd
    said_standby = False
    while not stop.is_set():
        if not await asyncio.to_thread(lease.acquire):
            other = await asyncio.to_thread(current_lease, sessions)
            who = f"{other.holder} (until {other.expires_at:%H:%M:%S} UTC)" if other else "another process"
            if settings.standby == "exit":
                log.error("another serve holds the trader lease: %s; exiting (TB_STANDBY=exit)", who)
                return ServeResult(ServeExit.STANDBY_EXIT)
            if not said_standby:
                log.warning("another serve holds the trader lease: %s; standing by to take over", who)
                said_standby = True
            notifier.standing_by(f"standing by: the trader lease is held by {who}", lease.ttl.total_seconds() / 3)
            await _sleep(stop, lease.ttl.total_seconds() / 3)
            continue
        if said_standby:
            log.info("took over the trader lease as %s", lease.holder)
        said_standby = False
        ended = await run_active(settings, sessions, lease, clock, stop, ready, notifier)
        if ended is Ended.ABANDONED:
            return ServeResult(ServeExit.OK, abandoned=True)
        if ended is Ended.LOST and settings.standby == "exit":
            return ServeResult(ServeExit.LEASE_LOST)
    return ServeResult(ServeExit.OK)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _heartbeat(lease: Lease, lost: asyncio.Event, stop: asyncio.Event) -> None:
    every = lease.ttl.total_seconds() / 3
    while not stop.is_set():
        await _sleep(stop, every)
        if stop.is_set():
            return
        try:
            renewed = await asyncio.to_thread(lease.acquire)
        except Exception as exc:  # the store is unreachable: the lease stays ours only until it runs out
            log.warning("could not renew the trader lease: %s: %s", exc.__class__.__name__, exc)
            renewed = lease.held()
        if not renewed:
            log.error("lost the trader lease (%s); stopping trading, the scheduler and the bot", lease.holder)
            lost.set()
            return


async def run_active(settings: Settings, sessions: Sessions, lease: Lease, clock: Clock, stop: asyncio.Event,
                     ready: Callable[[str], None], notifier: Notifier = Notifier(None)) -> Ended:
    """Everything a lease holder does, until `stop` or the lease is lost; then a clean shutdown."""
    from serve import jobs

    bot_stop, lost = asyncio.Event(), asyncio.Event()
    # Renewing starts first: loading a large sentiment model must not let the lease run out meanwhile.
    heartbeat = asyncio.create_task(_heartbeat(lease, lost, bot_stop))
    try:
        context = await _prepare(settings, sessions, lease, clock)
    except BaseException:
        bot_stop.set()
        await heartbeat
        jobs.deactivate()
        await asyncio.to_thread(lease.release)
        raise
    # Digests are the scheduler's job; the runtime's own check stays as a rare backstop.
    bot = asyncio.create_task(context.runtime.run(bot_stop, digest_check_seconds=3600.0))
    try:
        scheduler = await _start_scheduler(context)
    except BaseException:
        bot_stop.set()
        await asyncio.gather(bot, heartbeat, return_exceptions=True)
        jobs.deactivate()
        await asyncio.to_thread(lease.release)
        raise
    ready(lease.holder)
    notifier.ready(f"trading as {lease.holder}")
    # Pings while the lease is ours; a lost lease (or a stuck loop) goes quiet and systemd restarts us.
    watchdog = asyncio.create_task(notifier.keep_alive(
        lambda: lease.held() and not lost.is_set(), stop,
        lambda: log.warning("the trader lease was not renewed in time: no watchdog pings to systemd until it is")))
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in (*waiters, watchdog):
        waiter.cancel()
    ended = Ended.LOST if lost.is_set() else Ended.STOPPED
    log.info("serve stopping (%s)", "lease lost" if lost.is_set() else "signal")
    if ended is Ended.STOPPED:
        notifier.stopping(f"stopping: finishing running jobs (up to {settings.shutdown_grace_seconds:g} s)")
    else:
        notifier.status("lost the trader lease: stopping trading, the scheduler and the bot")
    leftover = await _shut_down(context, scheduler, bot, bot_stop, heartbeat)
    if leftover:
        log.error("job(s) %s still running after %.0f s (TB_SHUTDOWN_GRACE_SECONDS); exiting without them: "
                  "their open transactions roll back", ", ".join(leftover), settings.shutdown_grace_seconds)
        ended = Ended.ABANDONED
    if not lost.is_set():
        await asyncio.to_thread(lease.release)
    log.info("serve stopped; trader lease %s", "released" if not lost.is_set() else "lost")
    return ended


async def _prepare(settings: Settings, sessions: Sessions, lease: Lease, clock: Clock) -> "jobs.ServeContext":
    """The lease holder's objects: chat runtime, sentiment model, data providers; activated for the jobs."""
    from serve import jobs
    from pipeline.data_sources import build_data_sources
    from bot.runtime import build_runtime
    from providers.sentiment_models import load_backend

    interrupted = await asyncio.to_thread(jobs.mark_interrupted_runs, sessions, clock(), lease.ttl)
    if interrupted:
        log.warning("%d cycle(s) left running by a stopped process marked failed (interrupted)", interrupted)
    runtime = build_runtime(settings, sessions, clock)
    sentiment = await asyncio.to_thread(load_backend, settings.sentiment_backend, settings.finbert_model,
                                        quantize=settings.finbert_quantize)
    log.info("sentiment: %s", sentiment.note)
    sources = build_data_sources(settings, sessions, clock)
    context = jobs.ServeContext(settings, sessions, clock, runtime, lease, sources, sentiment)
    jobs.activate(context)
    return context


async def _start_scheduler(context: "jobs.ServeContext") -> AsyncIOScheduler:
    from serve.scheduler import build_scheduler, install_jobs, job_specs

    scheduler = build_scheduler(context.sessions.kw["bind"])
    scheduler.start(paused=True)  # the stored jobs are reconciled with the settings before any runs
    install_jobs(scheduler, job_specs(context.settings), context.clock())
    scheduler.resume()
    return scheduler


async def _shut_down(context: "jobs.ServeContext", scheduler: AsyncIOScheduler, bot: asyncio.Task[None], bot_stop: asyncio.Event,
                     heartbeat: asyncio.Task[None]) -> list[str]:
    """Stop in the order that loses nothing; returns the jobs that outlived the grace time."""
    from serve import jobs

    context.stopping = True
    scheduler.pause()  # no new run starts
    leftover = await context.wait_idle(context.settings.shutdown_grace_seconds)
    scheduler.shutdown(wait=False)
    worker = context.runtime.worker
    if worker.senders:
        try:
            await asyncio.wait_for(worker.deliver_due(), FLUSH_SECONDS)
        except Exception as exc:  # not delivered now is not lost: it waits in the outbox
            log.warning("outbox flush at shutdown incomplete: %s", exc.__class__.__name__)
    bot_stop.set()
    await heartbeat
    await bot
    await asyncio.to_thread(context.sources.close)
    await asyncio.to_thread(context.runtime.app.close)
    jobs.deactivate()
    return leftover
