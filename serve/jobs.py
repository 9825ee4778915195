"""What `serve`'s scheduler runs. Each job is a module-level coroutine without arguments, so the
persisted job (APScheduler's SQLAlchemy job store pickles a reference and its arguments) names only
`serve.jobs:<function>`; the process's live objects are in one `ServeContext` set at start.

Every job checks the trader lease first: a process that no longer holds it does nothing. The
blocking work (the cycle, the broker, the evaluation, the store) runs in worker threads, so the
Telegram side on the same event loop keeps answering.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import time as _time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

from sqlalchemy import update

from trading.alerts import Alert
from config import Settings
from storage.db import Sessions
from storage.models import Run
from storage.statements import rows_changed

if TYPE_CHECKING:
    from pipeline.data_sources import DataSources
    from serve.lease import Lease
    from bot.runtime import ChatRuntime
    from intelligence.types import Problem
    from providers.sentiment_models import LoadedBackend

log = logging.getLogger(__name__)
STALE_RUN = timedelta(hours=1)  # no cycle takes this long; one "running" longer was interrupted


@dataclass
class ServeContext:
    settings: Settings
    sessions: Sessions
    clock: Callable[[], datetime]
    runtime: "ChatRuntime"
    lease: "Lease"
    sources: "DataSources"
    sentiment: "LoadedBackend"
    # The data providers are not shared across threads at once (the cycle, outcome resolution and the
    # weekly evaluation all read bars); trading ticks do not overlap either.
    data_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    trading_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    stopping: bool = False
    last_cycle_failed: bool = False

    async def wait_idle(self, timeout: float) -> list[str]:
        """Let running jobs finish for up to `timeout` seconds; returns the names of those still running."""
        tasks = list(self.running.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        return [name for name, task in self.running.items() if not task.done()]


_context: ServeContext | None = None


def activate(context: ServeContext) -> None:
    global _context
    _context = context


def deactivate() -> None:
    global _context
    _context = None


async def _guarded(name: str, work: Callable[[ServeContext], Awaitable[None]]) -> None:
    """Run `work` if this process may (it holds the lease and is not stopping); log, never raise."""
    context = _context
    if context is None or context.stopping:
        log.info("job %s skipped: serve is not running or is stopping", name)
        return
    if not context.lease.held():
        log.warning("job %s skipped: this process does not hold the trader lease", name)
        return
    task = asyncio.current_task()
    assert task is not None
    context.running[name] = task
    started = _time.monotonic()
    try:
        await work(context)
    except Exception:
        log.exception("job %s failed", name)
    finally:
        context.running.pop(name, None)
        log.debug("job %s took %.2f s", name, _time.monotonic() - started)


# --- the jobs (referenced by name from the job store: keep these names) ---

async def cycle_job() -> None:
    await _guarded("cycle", _cycle)


async def trading_job() -> None:
    await _guarded("trading", _trading)


async def digest_job() -> None:
    await _guarded("digests", _digests)


async def resolve_job() -> None:
    await _guarded("resolve", _resolve)


async def weekly_job() -> None:
    await _guarded("weekly", _weekly)


async def retention_job() -> None:
    await _guarded("retention", _retention)


async def outbox_job() -> None:
    await _guarded("outbox", _outbox)


# --- what they do ---

def open_universe(symbols: Sequence[str], now: datetime) -> list[str]:
    """Crypto at any hour, equities while NYSE is open."""
    from trading.market_hours import is_open

    return [s for s in symbols if is_open(s, now)]


async def _cycle(c: ServeContext) -> None:
    from pipeline.cycle import CycleError, run_once
    from pipeline.universe import watchlist

    now = c.clock()
    # The stored watchlist (/watch, /unwatch); off the event loop: the first look at a stock's market builds
    # its exchange calendar (about a second) and the store is read.
    symbols = await asyncio.to_thread(lambda: open_universe(watchlist(c.settings, c.sessions), now))
    if not symbols:
        log.info("cycle skipped: no market of the universe is open at %s", now.isoformat())
        return
    problems: tuple["Problem", ...] = tuple(c.sentiment.problems)
    async with c.data_lock:
        try:
            report = await asyncio.to_thread(run_once, c.settings, c.sessions, c.sentiment.backend, problems,
                                             c.sources.market, now, c.sources, symbols)
        except CycleError as exc:
            log.error("cycle failed: %s", exc)
            if not c.last_cycle_failed:  # once per outage, not every interval
                c.runtime.publisher.alert(Alert("error", f"The cycle failed and produced no digest: {exc}",
                                                f"cycle-failed:{now.isoformat()}"))
            c.last_cycle_failed = True
            return
    c.last_cycle_failed = False
    c.runtime.service.forget_reads()  # the new run, signals and proposal are what chat asks about next
    digest = report.digest
    log.info("cycle run %d as of %s: %d signal(s), %s%s", report.run_id, digest.as_of.isoformat(), len(report.signals),
             f"proposal #{report.proposal_id}" if report.proposal_id else "no proposal",
             f", degraded: {'; '.join(digest.problems)}" if digest.problems else "")
    await asyncio.to_thread(c.runtime.publisher.cycle_finished, report.run_id, report.proposal_id)
    if report.proposal_id is not None and c.settings.auto_approve_probability is not None:
        await _trading(c)  # the auto-approve rule acts on the new proposal now, not a tick later


async def _trading(c: ServeContext) -> None:
    async with c.trading_lock:
        report = await asyncio.to_thread(c.runtime.service.trading_tick)
    if report.auto_approved:
        log.info("auto-approved proposal(s) %s", ", ".join(f"#{i}" for i in report.auto_approved))
    if report.halted:
        log.warning("trading halted by a guard: %s", report.halted)


async def _digests(c: ServeContext) -> None:
    queued = await asyncio.to_thread(c.runtime.publisher.due_digests)
    if queued:
        log.info("queued %d digest message(s)", queued)


def bar_source(c: ServeContext) -> Any:
    """Outcomes are judged on the bars the signals were made from: Alpaca's when live, else the files."""
    if c.settings.market_data == "alpaca":
        return c.sources.market
    from eval.pipeline import store_bars

    return store_bars(c.settings.bars_dir)


async def _resolve(c: ServeContext) -> None:
    from eval.pipeline import resolve_store

    async with c.data_lock:  # no cycle of ours runs meanwhile
        # A run still "running" this long after it started was left by a process that died mid-cycle
        # (start-up only catches those older than a lease).
        await asyncio.to_thread(mark_interrupted_runs, c.sessions, c.clock(), STALE_RUN)
        resolutions, _ = await asyncio.to_thread(resolve_store, c.sessions, bar_source(c), c.clock())
    log.info("outcome resolution: %d signal(s) resolved so far", sum(1 for r in resolutions if r.outcome is not None))


async def _weekly(c: ServeContext) -> None:
    from eval.schedule import publish_weekly
    from eval.equity import trading_costs
    from eval.weekly import build_weekly_summary

    def produce(now: datetime) -> Any:
        return build_weekly_summary(c.sessions, bar_source(c), now, c.settings.eval_runs_dir, trading_costs(c.settings))

    async with c.data_lock:
        summary = await publish_weekly(produce, lambda s: send_weekly(c.runtime, s), c.clock)
    log.info("weekly evaluation %s made (artifacts: %s) and queued for the chat channels", summary.key,
             summary.artifacts or "none, it failed")


def send_weekly(runtime: "ChatRuntime", summary: Any) -> int:
    """To the subscribers on Telegram (the publisher), and to Discord with its picture: the weekly numbers
    are for the operators' record like the alerts Discord mirrors. Keys are those of the Telegram
    messages' backups, so a Telegram failure does not post them to Discord a second time."""
    from bot import messages as docs
    from bot.envelopes import WEBHOOK, discord_envelope, discord_photo_payload
    from bot.outbox import Envelope

    queued = runtime.publisher.weekly_summary(summary)
    if runtime.publisher.discord:
        queued += runtime.outbox.put(discord_envelope(docs.weekly_doc(summary), summary.key, "weekly"))
        if summary.photo:
            payload = discord_photo_payload(summary.photo, summary.photo_caption)
            queued += runtime.outbox.put(Envelope(f"{summary.key}:photo", "discord", WEBHOOK, "photo", payload))
        runtime.worker.wake()
    return queued


async def _retention(c: ServeContext) -> None:
    days = c.settings.retention_days
    if days <= 0:
        return
    cutoff = c.clock() - timedelta(days=days)
    removed = await asyncio.to_thread(prune_older_than, (c.settings.artifacts_dir, c.settings.eval_runs_dir), cutoff)
    if removed:
        log.info("retention: removed %d artifact(s) older than %s", removed, cutoff.date().isoformat())
    from pipeline.markets import prune_snapshots

    quotes = await asyncio.to_thread(prune_snapshots, c.sessions, cutoff)
    if quotes:
        log.info("retention: removed %d prediction-market quote(s) older than %s that no evaluation reads",
                 quotes, cutoff.date().isoformat())


def prune_older_than(roots: Sequence[Path], cutoff: datetime) -> int:
    """Delete the files and directories directly under each root last modified before `cutoff`."""
    limit, removed = cutoff.timestamp(), 0
    for root in roots:
        if not Path(root).is_dir():
            continue
        for entry in Path(root).iterdir():
            try:
                if entry.is_symlink() or entry.lstat().st_mtime >= limit:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed += 1
            except OSError as exc:  # one stubborn file must not stop the rest
                log.warning("retention: could not remove %s: %s", entry, exc)
    return removed


async def _outbox(c: ServeContext) -> None:
    """The delivery worker runs all the time; this wakes it, and says so when messages keep failing."""
    c.runtime.worker.wake()
    pending = await asyncio.to_thread(c.runtime.outbox.pending)
    retried = [p for p in pending if p.attempts]
    if retried:
        channels = ", ".join(sorted({p.channel for p in retried}))
        log.warning("outbox: %d message(s) waiting, %d after failed attempts (up to %d) on %s", len(pending),
                    len(retried), max(p.attempts for p in retried), channels)


def mark_interrupted_runs(sessions: Sessions, now: datetime, older_than: timedelta) -> int:
    """Runs left "running" by a process that stopped mid-cycle: their writes were rolled back; say so."""
    with sessions.begin() as session:
        return rows_changed(
            session, update(Run).where(Run.status == "running", Run.started_at <= now - older_than)
            .values(status="failed", finished_at=now,
                    problems=["interrupted: the process running this cycle stopped before it finished"])
            .execution_options(synchronize_session=False)
        )
