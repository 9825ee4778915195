"""Proposal lifecycle: every state a trade idea can be in, and the only moves between them."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import update
from sqlalchemy.orm import Session, object_session

from storage.models import ProposalRow
from storage.trading_models import ProposalEventRow
from storage.statements import rows_changed
from trading import audit


class ProposalStatus(str, Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    FAILED = "failed"


_S = ProposalStatus
TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    _S.PROPOSED: frozenset({_S.APPROVED, _S.REJECTED, _S.EXPIRED}),
    _S.APPROVED: frozenset({_S.SUBMITTED, _S.CANCELLED, _S.FAILED}),
    _S.SUBMITTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.FAILED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED}),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.FAILED: frozenset(),
}


class IllegalTransition(Exception):
    pass


def transition(proposal: ProposalRow, to: ProposalStatus, actor: str, now: datetime, note: str = "") -> None:
    """Move a proposal; when it belongs to a session the move is persisted as an event and audited."""
    current = ProposalStatus(proposal.status)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"proposal {proposal.id} cannot go from {current.value} to {to.value}")
    proposal.status = to.value
    proposal.updated_at = now
    proposal.updated_by = actor
    session = object_session(proposal)
    if session is not None:
        record_event(session, proposal, current, to, actor, now, note)


def record_event(session: Session, proposal: ProposalRow, before: ProposalStatus, after: ProposalStatus,
                 actor: str, now: datetime, note: str = "") -> None:
    """One event row and one audit link per move (a resize is an event that keeps the status)."""
    session.add(ProposalEventRow(
        proposal_id=proposal.id, from_status=before.value, to_status=after.value, actor=actor, at=now, note=note,
    ))
    audit.append(session, actor, f"proposal.{after.value}", {
        "proposal_id": proposal.id, "from": before.value, "to": after.value, "symbol": proposal.symbol,
        "side": proposal.side, "quantity": proposal.quantity, "note": note,
    }, now)


def claim(session: Session, proposal: ProposalRow, before: ProposalStatus, after: ProposalStatus,
          actor: str, now: datetime, note: str = "") -> bool:
    """Compare-and-set move: True for exactly one of any number of concurrent callers.

    Two operators approving at once (chat and shell) both read PROPOSED; only the conditional
    update that still finds it PROPOSED wins, on every database."""
    if after not in TRANSITIONS[before]:
        raise IllegalTransition(f"proposal {proposal.id} cannot go from {before.value} to {after.value}")
    won = rows_changed(
        session, update(ProposalRow)
        .where(ProposalRow.id == proposal.id, ProposalRow.status == before.value)
        .values(status=after.value, updated_at=now, updated_by=actor)
        .execution_options(synchronize_session=False)
    ) == 1
    session.refresh(proposal)
    if won:
        record_event(session, proposal, before, after, actor, now, note)
    return won


def is_expired(proposal: ProposalRow, now: datetime) -> bool:
    return proposal.status == ProposalStatus.PROPOSED.value and now >= proposal.expires_at
