"""The providers' memory in the store: feed validators and circuit breakers, and the breakers as a health view."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from sqlalchemy import select

from providers.circuit import BreakerSnapshot, BreakerState
from providers.http_feeds import Validators
from storage.db import Sessions
from storage.provider_models import BreakerRow, FeedValidatorRow


def load_validators(sessions: Sessions) -> dict[str, Validators]:
    with sessions() as session:
        return {row.url: Validators(row.etag, row.last_modified) for row in session.scalars(select(FeedValidatorRow))}


def save_validators(sessions: Sessions, validators: Mapping[str, Validators], now: datetime) -> None:
    if not validators:
        return
    with sessions.begin() as session:
        for url, found in validators.items():
            row = session.get(FeedValidatorRow, url) or FeedValidatorRow(url=url)
            row.etag, row.last_modified, row.updated_at = found.etag, found.last_modified, now
            session.add(row)


def load_breakers(sessions: Sessions) -> dict[str, BreakerSnapshot]:
    with sessions() as session:
        return {row.name: _snapshot(row, None) for row in session.scalars(select(BreakerRow))}


def save_breakers(sessions: Sessions, snapshots: Iterable[BreakerSnapshot], now: datetime) -> None:
    snapshots = list(snapshots)
    if not snapshots:
        return
    with sessions.begin() as session:
        for snap in snapshots:
            row = session.get(BreakerRow, snap.name) or BreakerRow(name=snap.name)
            row.state, row.failures, row.opened_at = snap.state.value, snap.failures, snap.opened_at
            row.last_error, row.last_failure_at, row.last_success_at = snap.last_error, snap.last_failure_at, snap.last_success_at
            row.updated_at = now
            session.add(row)


def provider_health(sessions: Sessions, cooldown: timedelta, now: datetime) -> list[BreakerSnapshot]:
    """Every provider the store has seen, its breaker state as of `now` (an open one whose time is up is half-open)."""
    with sessions() as session:
        rows = list(session.scalars(select(BreakerRow).order_by(BreakerRow.name)))
    found = []
    for row in rows:
        snap = _snapshot(row, cooldown)
        if snap.state is BreakerState.OPEN and snap.retry_at is not None and now >= snap.retry_at:
            snap = replace(snap, state=BreakerState.HALF_OPEN)
        found.append(snap)
    return found


def _snapshot(row: BreakerRow, cooldown: timedelta | None) -> BreakerSnapshot:
    retry_at = row.opened_at + cooldown if row.opened_at is not None and cooldown is not None else None
    return BreakerSnapshot(row.name, BreakerState(row.state), row.failures, row.opened_at, retry_at,
                           row.last_error, row.last_failure_at, row.last_success_at)
