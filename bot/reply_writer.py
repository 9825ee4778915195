"""Group commit for chat replies: what many handlers answer at once reaches the store in one transaction.

A handler's reply counts as given once it is in the outbox (the delivery worker sends it from there,
after a crash too), so every handler waits for its own commit. Committing each reply alone costs a
disk sync apiece; a burst of commands (fifty operators pressing /status after an alert) would queue
behind those syncs. Here the first handler lets the others that are ready catch up, then commits
for all of them; the next commit takes everyone who arrived meanwhile. The command log row goes in the same transaction as
the reply it logs, so one never exists without the other.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Sequence

from service.chat_ops import CommandRecord, command_log_row
from bot.outbox import Envelope, Outbox


@dataclass
class _Entry:
    envelopes: Sequence[Envelope]
    record: CommandRecord | None
    done: bool = False
    error: BaseException | None = None
    queued: list[bool] = field(default_factory=list)


class ReplyWriter:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._waiting: list[_Entry] = []
        self._lock = asyncio.Lock()  # one commit at a time; the holder commits everyone waiting
        self.commits = 0  # how many transactions carried the replies so far (for tests and benchmarks)

    async def write(self, envelopes: Sequence[Envelope], record: CommandRecord | None = None) -> list[bool]:
        """Store the reply's envelopes and its command log row; returns once they are committed
        (per envelope, False when its key was queued before). Raises what the store raised."""
        entry = _Entry(envelopes, record)
        self._waiting.append(entry)
        async with self._lock:
            if not entry.done:
                await asyncio.sleep(0)  # handlers ready to run reach this point meanwhile and ride along
                batch, self._waiting = self._waiting, []
                # On the loop, not in a thread: the store's connection may belong to this thread (SQLite
                # in memory), and one commit per burst is short enough not to stall polling.
                self._commit(batch)
        if entry.error is not None:
            raise entry.error
        return entry.queued

    def _commit(self, batch: list[_Entry]) -> None:
        now = self._outbox.now()
        envelopes = [e for entry in batch for e in entry.envelopes]
        rows = [command_log_row(now, entry.record) for entry in batch if entry.record is not None]
        try:
            queued = self._outbox.put_all(envelopes, rows)
            self.commits += 1
        except BaseException as exc:  # every waiter learns of it, not only the one that committed
            for entry in batch:
                entry.done, entry.error = True, exc
            raise
        for entry in batch:
            entry.queued, queued = queued[:len(entry.envelopes)], queued[len(entry.envelopes):]
            entry.done = True
