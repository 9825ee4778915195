"""Audit trail: every decision and order event, appended to a SHA-256 hash chain.

Each row's hash covers the previous row's hash and the row's own content (sequence number, time,
actor, kind, payload as canonical JSON), so changing, removing or reordering any row breaks the
chain from that row on; the head row holds the tip, so cutting off the newest rows is caught too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.trading_models import AuditHeadRow, AuditRow
from storage.statements import rows_changed
from trading.rows import insert_missing

GENESIS = "0" * 64
HEAD_ID = 1


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(prev_hash: str, seq: int, at: datetime, actor: str, kind: str, payload: str) -> str:
    body = canonical({"seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind, "payload": payload})
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


def append(session: Session, actor: str, kind: str, payload: dict[str, Any], at: datetime) -> AuditRow:
    """Add one link in the caller's transaction (it commits or rolls back with the decision itself)."""
    # Writing the head first takes the write lock (a row lock on PostgreSQL, the database lock on
    # SQLite) before the tip is read: concurrent appends queue instead of forking the chain.
    bumped = rows_changed(
        session, update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(last_seq=AuditHeadRow.last_seq + 1))
    if not bumped:  # the first link ever: make the head, then take it like everybody else
        insert_missing(session, AuditHeadRow, id=HEAD_ID, last_seq=0, last_hash=GENESIS)
        session.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(last_seq=AuditHeadRow.last_seq + 1))
    head = session.get_one(AuditHeadRow, HEAD_ID, populate_existing=True)
    text = canonical(payload)
    at = at.astimezone(timezone.utc)  # read back as UTC: hash the same ISO text that verify will see
    digest = link_hash(head.last_hash, head.last_seq, at, actor, kind, text)
    row = AuditRow(seq=head.last_seq, at=at, actor=actor, kind=kind, payload=text, prev_hash=head.last_hash, hash=digest)
    session.add(row)
    head.last_hash = digest
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    count: int
    broken_seq: int | None  # the first link that does not hold; None when intact
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify_rows(rows: Iterable[AuditRow], head: AuditHeadRow | None) -> ChainReport:
    """Walk the chain from the start; stop at the first link that does not hold. Pure over its inputs."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        if row.seq != expected_seq:
            return ChainReport(count, expected_seq, f"link {expected_seq} is missing (next stored link is {row.seq})")
        if row.prev_hash != prev_hash:
            return ChainReport(count, row.seq, f"link {row.seq} does not point at link {row.seq - 1}")
        recomputed = link_hash(prev_hash, row.seq, row.at, row.actor, row.kind, row.payload)
        if recomputed != row.hash:
            return ChainReport(count, row.seq, f"link {row.seq} ({row.kind} by {row.actor}) was altered: its hash does not match its content")
        prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if head is None:
        if count:
            return ChainReport(count, count, "the chain's head record is missing")
        return ChainReport(0, None, None)
    if head.last_seq != count or head.last_hash != prev_hash:
        return ChainReport(count, min(count, head.last_seq) + 1, f"the chain ends at link {count} but its head records "
                           f"link {head.last_seq}: links were removed or the head was altered")
    return ChainReport(count, None, None)


def verify(session: Session) -> ChainReport:
    rows = session.scalars(select(AuditRow).order_by(AuditRow.seq)).yield_per(1000)
    return verify_rows(rows, session.get(AuditHeadRow, HEAD_ID))


def recent(session: Session, limit: int = 50) -> list[AuditRow]:
    return list(session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)))
