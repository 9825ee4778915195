"""The providers' memory in the store: feed validators and circuit breakers, and the breakers as a health view."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from sqlalchemy import select

from config import mask_url
from providers.circuit import BreakerSnapshot, BreakerState
from providers.http_feeds import Validators
from storage.db import Sessions
from storage.provider_models import BreakerRow, FeedValidatorRow

KEY_ROUNDS = 100_000


@functools.lru_cache(maxsize=256)  # the slow hash once per feed and process, not once per cycle
def validator_key(url: str) -> str:
    """How a feed's validators are keyed in the store: the URL without user, password and query values
    (config.mask_url), and, when something was masked, a slow salted hash of the whole URL, so two
    feeds that differ only in a token stay apart and a changed token is a new feed. The hash is
    PBKDF2 (100k rounds, the masked URL as salt): a weak password cannot be recovered by a fast search."""
    masked = mask_url(url)
    if masked == url:
        return url  # nothing secret in it: stored as it always was
    digest = hashlib.pbkdf2_hmac("sha256", url.encode(), masked.encode(), KEY_ROUNDS).hex()[:32]
    return f"{masked}#{digest}"


def load_validators(sessions: Sessions, urls: Iterable[str]) -> dict[str, Validators]:
    """The stored validators of the feeds at `urls`, by URL (the full one: it stays in memory only)."""
    keys = {validator_key(url): url for url in urls}
    if not keys:
        return {}
    with sessions() as session:
        rows = session.scalars(select(FeedValidatorRow).where(FeedValidatorRow.url.in_(keys)))
        return {keys[row.url]: Validators(row.etag, row.last_modified) for row in rows}


def save_validators(sessions: Sessions, validators: Mapping[str, Validators], now: datetime) -> None:
    """Store each feed's validators (by full URL in `validators`) under its `validator_key`."""
    if not validators:
        return
    with sessions.begin() as session:
        for url, found in validators.items():
            key = validator_key(url)
            row = session.get(FeedValidatorRow, key) or FeedValidatorRow(url=key)
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
