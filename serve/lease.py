"""One trader at a time: a lease in the store that a `serve` process holds while it trades, schedules and sends.

Taking and renewing are one conditional UPDATE ("mine, or nobody's since it ran out"), or the first
INSERT of the row; both databases make that atomic, so two processes never both get a True. The
holder renews well before `expires_at`; one that stops renewing (crashed, frozen, cut off from the
store) counts as gone once that time has passed, and it stops acting on its own by then as well:
`held()` trusts only the expiry of its last successful renewal, never a renewal that failed.
Clocks of the machines sharing a store are assumed to agree to well within the lease (NTP).
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Sessions
from storage.serve_models import LeaseRow
from storage.statements import rows_changed

log = logging.getLogger(__name__)
TRADER = "trader"  # the lease `serve` needs for trading, the scheduler and the chat side
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class LeaseView:
    name: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


def new_holder_id() -> str:
    """Names the process in logs and /status: host, pid and a random part (pids repeat after restarts)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    def __init__(self, sessions: Sessions, name: str, holder: str, ttl: timedelta, clock: Clock) -> None:
        self._sessions = sessions
        self.name, self.holder, self.ttl = name, holder, ttl
        self._clock = clock
        self.valid_until: datetime | None = None  # expiry of our last successful take or renewal

    def acquire(self) -> bool:
        """Take the lease, or renew it if it is ours; False while another holder's lease runs."""
        now = self._clock()
        expires = now + self.ttl
        with self._sessions.begin() as session:
            taken = rows_changed(
                session, update(LeaseRow)
                .where(LeaseRow.name == self.name, or_(LeaseRow.holder == self.holder, LeaseRow.expires_at <= now))
                .values(holder=self.holder, heartbeat_at=now, expires_at=expires,
                        acquired_at=case((LeaseRow.holder == self.holder, LeaseRow.acquired_at), else_=now))
                .execution_options(synchronize_session=False)
            )
        if not taken:
            taken = self._insert(now, expires)
        self.valid_until = expires if taken else None
        return bool(taken)

    def _insert(self, now: datetime, expires: datetime) -> bool:
        try:
            with self._sessions.begin() as session:
                if session.get(LeaseRow, self.name) is not None:
                    return False  # someone else's, and still running
                session.add(LeaseRow(name=self.name, holder=self.holder, acquired_at=now, heartbeat_at=now,
                                     expires_at=expires))
        except IntegrityError:  # another process inserted it between our look and our insert
            return False
        return True

    def held(self) -> bool:
        """Ours for sure right now: renewed, and not past that renewal's expiry."""
        return self.valid_until is not None and self._clock() < self.valid_until

    def release(self) -> None:
        """Let the next process take over at once (a clean shutdown does not make it wait out the lease)."""
        now = self._clock()
        with self._sessions.begin() as session:
            session.execute(
                update(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .values(expires_at=now, heartbeat_at=now).execution_options(synchronize_session=False))
        self.valid_until = None


def current_lease(sessions: Sessions, name: str = TRADER) -> LeaseView | None:
    """The lease row as stored (possibly expired); None when no process ever took it."""
    with sessions() as session:
        row = session.scalar(select(LeaseRow).where(LeaseRow.name == name))
        if row is None:
            return None
        return LeaseView(row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)
