"""The outbox worker: delivers due messages, in order per destination, retrying with backoff.

Per destination, messages go strictly in queue order: a message that cannot go yet holds back the
ones behind it, so the parts of a digest never arrive out of order. A rate limit (Telegram's
`retry_after`, Discord's 429 and bucket headers) defers by exactly the time asked; an outage backs
off exponentially up to a cap and never gives up. When Telegram fails, a message that carries a
Discord backup is mirrored there once, and Discord hears once per outage that Telegram is down.

At least once, and a duplicate only where it cannot be told apart: a send that got no answer in
time (Unknown) may have been shown, so it is marked unknown and sent again only after
`Backoff.unknown_delay()`, not at once and not backed up to Discord. A part Telegram confirmed is
never sent again by this process, even when the store is too busy to record it at that moment.

Some kinds go on a budget of their own (refusals to people the bot is not for): they are delivered
after everything else that is due, at most `Budget.rate` a second, in a lane apart from the other
messages to the same chat, so a flood of strangers never delays an operator's answer. Every store
call runs in a worker thread: the event loop never waits for a busy store.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Protocol

from bot.outbox import UNKNOWN, Envelope, Outbox, Pending
from redaction import redact

log = logging.getLogger(__name__)
REFUSAL = "refusal"  # the kind of a reply that refuses someone: sent on its own budget, after the rest


class Budget:
    """A token bucket: `rate` messages a second, up to `burst` at once."""

    def __init__(self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, max(burst, 1.0), clock
        self._tokens, self._at = self.burst, clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next message may go."""
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.rate)


class DeliveryError(Exception):
    """Why a part could not be delivered; the subclass says what to do about it."""


class RetryLater(DeliveryError):
    """Rate limited: try again after exactly `seconds` (not an outage)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = max(seconds, 0.0)


class Transient(DeliveryError):
    """The channel is down or timed out: back off and retry."""


class Unknown(DeliveryError):
    """The request went out but no answer came (a read timeout, a dropped connection): it may have been
    delivered. Sending again could show it twice, so it waits first."""


class Permanent(DeliveryError):
    """This message can never be delivered (chat gone, bot blocked, payload refused)."""


class Moved(DeliveryError):
    """The chat moved (a group became a supergroup): deliver to `destination` instead."""

    def __init__(self, destination: str) -> None:
        super().__init__(f"chat moved to {destination}")
        self.destination = destination


class Sender(Protocol):
    channel: str

    def part_count(self, payload: Mapping[str, Any]) -> int: ...

    async def send_part(self, destination: str, payload: Mapping[str, Any], index: int) -> None: ...


@dataclass(frozen=True)
class Backoff:
    first_seconds: float
    max_seconds: float
    # After a send whose outcome is unknown, the wait before sending it again: long enough for a slow
    # Telegram to have settled, so a resend is not one of a burst of copies. None: the longest backoff
    # (TB_OUTBOX_BACKOFF_MAX_SECONDS, 300 s by default).
    unknown_seconds: float | None = None

    def delay(self, attempts: int) -> timedelta:
        """After the n-th failed attempt (n >= 1)."""
        return timedelta(seconds=min(self.first_seconds * 2 ** min(attempts - 1, 30), self.max_seconds))

    def unknown_delay(self) -> timedelta:
        return timedelta(seconds=self.max_seconds if self.unknown_seconds is None else self.unknown_seconds)


@dataclass
class PassReport:
    delivered: int = 0  # messages completed this pass
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryWorker:
    def __init__(self, outbox: Outbox, senders: Mapping[str, Sender], backoff: Backoff,
                 clock: Callable[[], datetime], concurrency: int = 8,
                 outage_doc: Callable[[str, str, int], dict[str, Any]] | None = None,
                 budgets: Mapping[str, Budget] | None = None) -> None:
        self.outbox = outbox
        self.budgets = dict(budgets or {})  # kind -> its own budget (e.g. REFUSAL)
        self.senders = dict(senders)
        self.backoff = backoff
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._down_since: dict[str, datetime] = {}
        self._outage_payload = outage_doc  # (channel, reason, waiting) -> Discord payload
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Parts a channel confirmed that the store has not recorded yet (it was busy): never sent again.
        self._delivered: dict[int, int] = {}

    def add_sender(self, sender: Sender) -> None:
        """Start delivering `sender.channel` (e.g. once Telegram has answered at start)."""
        self.senders[sender.channel] = sender

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next poll. Safe from any thread (a
        command run in a worker thread, a scheduler job)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                same = asyncio.get_running_loop() is loop
            except RuntimeError:
                same = False
            if not same:
                loop.call_soon_threadsafe(self._wake.set)
                return
        self._wake.set()

    async def run(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Deliver until `stop` is set; wakes on `wake()` or every `poll_seconds`."""
        self._loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()
            wait = poll_seconds
            try:
                await self.deliver_due()
                wait = self._next_wait(await asyncio.to_thread(self.outbox.pending), poll_seconds)
            except Exception:  # the store hiccuped: log, keep the loop alive, try again next round
                log.exception("outbox pass failed")
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    def _next_wait(self, pending: list[Pending], poll_seconds: float) -> float:
        now, soonest = self._clock(), None
        for m in pending:
            if m.channel not in self.senders:
                continue
            at = m.next_attempt_at
            budget = self.budgets.get(m.kind)
            if budget is not None:  # due, but its budget is spent: when the budget allows the next one
                at = max(at, now + timedelta(seconds=budget.wait()))
            soonest = at if soonest is None else min(soonest, at)
        if soonest is None:
            return poll_seconds
        return min(poll_seconds, max((soonest - now).total_seconds(), 0.01))

    async def deliver_due(self) -> PassReport:
        """One pass over everything due; returns what happened."""
        async with self._lock:  # one pass at a time: two would send the same row twice
            report = PassReport()
            queues: dict[tuple[str, str, str], list[Pending]] = defaultdict(list)
            for message in await asyncio.to_thread(self.outbox.pending):
                if message.channel in self.senders:
                    lane = message.kind if message.kind in self.budgets else ""
                    queues[(message.channel, message.destination, lane)].append(message)
            # Lanes on a budget last: the others take the delivery slots (and the channel's rate) first.
            ordered = sorted(queues.items(), key=lambda item: item[0][2] != "")
            await asyncio.gather(*(self._drain(queue, report, self.budgets.get(lane)) for (_, _, lane), queue in ordered))
            return report

    async def _drain(self, queue: list[Pending], report: PassReport, budget: Budget | None) -> None:
        async with self._slots:
            for message in queue:
                if message.next_attempt_at > self._clock() or (budget is not None and not budget.take()) \
                        or not await self._deliver(message, report):
                    report.deferred += 1
                    return  # later messages to this destination wait behind it

    async def _deliver(self, message: Pending, report: PassReport) -> bool:
        """True when the message is done with (sent, or failed for good)."""
        sender = self.senders[message.channel]
        destination = message.destination
        index = max(message.parts_sent, self._delivered.get(message.id, 0))
        if message.status == UNKNOWN:
            log.warning("%s message %s to %s: its last send got no answer in time and may have been delivered; "
                        "sending it again", message.channel, message.id, destination)
        try:
            total = sender.part_count(message.payload)
            while index < total:
                await sender.send_part(destination, message.payload, index)
                index += 1
                self._delivered[message.id] = index
                if index < total:  # the last part is recorded with the message's completion, in one write
                    await self._record_progress(message.id, index)
        except Moved as moved:
            await asyncio.to_thread(self.outbox.moved, message.id, moved.destination)
            return False  # retried at once on the next pass, to the new chat
        except RetryLater as limited:
            await asyncio.to_thread(self.outbox.retry, message.id, message.attempts + 1,
                                    timedelta(seconds=limited.seconds), str(limited))
            return False
        except Permanent as refused:
            await asyncio.to_thread(self.outbox.failed, message.id, message.attempts + 1, str(refused))
            self._delivered.pop(message.id, None)
            report.failed += 1
            await self._backup(message)
            return True
        except Unknown as unsure:
            attempts = message.attempts + 1
            delay = self.backoff.unknown_delay()
            reason = redact(str(unsure))
            log.warning("%s delivery to %s may or may not have gone out (attempt %d): %s; sent again in %s",
                        message.channel, destination, attempts, reason, delay)
            await asyncio.to_thread(self.outbox.unknown, message.id, attempts, delay, reason)
            report.errors.append(reason)
            await self._channel_down(message.channel, reason)  # no Discord backup of it: it may be there already
            return False
        except Exception as exc:  # Transient, or anything unforeseen: keep the message, back off
            attempts = message.attempts + 1
            reason = redact(f"{exc.__class__.__name__}: {exc}")
            log.warning("%s delivery to %s failed (attempt %d): %s", message.channel, destination, attempts, reason)
            await asyncio.to_thread(self.outbox.retry, message.id, attempts, self.backoff.delay(attempts), reason)
            report.errors.append(reason)
            await self._channel_down(message.channel, reason)
            await self._backup(message)
            return False
        # Should the store fail here, the next pass records it, not resends.
        await asyncio.to_thread(self.outbox.sent, message.id, index)
        self._delivered.pop(message.id, None)
        report.delivered += 1
        self._channel_up(message.channel)
        return True

    async def _record_progress(self, message_id: int, parts: int) -> None:
        try:
            await asyncio.to_thread(self.outbox.progress, message_id, parts)
        except Exception as exc:  # the store is busy: the count in memory keeps the part from going out again
            log.warning("outbox could not record part %d of message %s as sent (%s); kept in memory",
                        parts, message_id, exc.__class__.__name__)

    async def _backup(self, message: Pending) -> None:
        if message.backup and message.backup_key and "discord" in self.senders:
            envelope = Envelope(message.backup_key, "discord", "webhook", "backup", message.backup)
            if await asyncio.to_thread(self.outbox.put, envelope):
                self.wake()

    async def _channel_down(self, channel: str, reason: str) -> None:
        if channel in self._down_since:
            return
        since = self._clock()
        self._down_since[channel] = since
        if channel != "discord" and "discord" in self.senders and self._outage_payload is not None:
            waiting = sum(1 for m in await asyncio.to_thread(self.outbox.pending) if m.channel == channel)
            payload = self._outage_payload(channel, reason, waiting)
            envelope = Envelope(f"outage:{channel}:{since.isoformat()}", "discord", "webhook", "outage", payload)
            await asyncio.to_thread(self.outbox.put, envelope)
            self.wake()

    def _channel_up(self, channel: str) -> None:
        since = self._down_since.pop(channel, None)
        if since is not None:
            log.warning("%s delivery works again (down since %s)", channel, since.isoformat())
