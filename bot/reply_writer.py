"""Group commit for chat replies: what many handlers answer at once reaches the store in one transaction.

A handler's reply counts as given once it is in the outbox (the delivery worker sends it from there,
after a crash too), so every handler waits for its own commit. Committing each reply alone costs a
disk sync apiece; a burst of commands (fifty operators pressing /status after an alert) would queue
behind those syncs. Here the first handler lets the others that are ready catch up, then commits
for all of them; the next commit takes everyone who arrived meanwhile. The command log row goes in
the same transaction as the reply it logs, so one never exists without the other.

The commit runs in a worker thread (bot/store_calls.py) and is tried again while the store is busy:
a reply is never dropped because another process holds the store, and the event loop never waits
for it. A reply may be given as a function that renders it at each try, so it can say how long it
waited. Batches commit one after the other, in the order their handlers arrived.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

from service.chat_ops import CommandRecord, command_log_row
from bot.outbox import Envelope, Outbox
from bot.store_calls import StoreCalls

Render = Callable[[], Sequence[Envelope]]
Reply = Union[Sequence[Envelope], Render]


@dataclass
class _Entry:
    reply: Reply
    record: CommandRecord | None
    done: bool = False
    error: BaseException | None = None
    queued: list[bool] = field(default_factory=list)
    count: int = 0  # envelopes rendered at the last try

    def envelopes(self) -> Sequence[Envelope]:
        envelopes = self.reply() if callable(self.reply) else self.reply
        self.count = len(envelopes)
        return envelopes


class ReplyWriter:
    def __init__(self, outbox: Outbox, store: StoreCalls | None = None) -> None:
        self._outbox = outbox
        self._store = store or StoreCalls()
        self._waiting: list[_Entry] = []
        self._lock = asyncio.Lock()  # one commit at a time; the holder commits everyone waiting
        self.commits = 0  # how many transactions carried the replies so far (for tests and benchmarks)

    async def write(self, reply: Reply, record: CommandRecord | None = None) -> list[bool]:
        """Store the reply's envelopes and its command log row; returns once they are committed
        (per envelope, False when its key was queued before). Waits while the store is busy; raises
        anything else the store raised (and StoreGaveUp when the bot stops first)."""
        entry = _Entry(reply, record)
        self._waiting.append(entry)
        async with self._lock:
            if not entry.done:
                await asyncio.sleep(0)  # handlers ready to run reach this point meanwhile and ride along
                batch, self._waiting = self._waiting, []
                try:
                    queued = await self._store.until_done("storing chat replies", self._commit, batch)
                except BaseException as exc:  # every waiter learns of it, not only the one that committed
                    for waiter in batch:
                        waiter.done, waiter.error = True, exc
                else:
                    for waiter in batch:
                        waiter.queued, queued = queued[:waiter.count], queued[waiter.count:]
                        waiter.done = True
        if entry.error is not None:
            raise entry.error
        return entry.queued

    def _commit(self, batch: list[_Entry]) -> list[bool]:
        """One transaction for the batch (in a worker thread): every reply rendered now, every log row."""
        now = self._outbox.now()
        envelopes = [e for entry in batch for e in entry.envelopes()]
        rows = [command_log_row(now, entry.record) for entry in batch if entry.record is not None]
        queued = self._outbox.put_all(envelopes, rows)
        self.commits += 1
        return queued
