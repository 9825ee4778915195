"""Proposal lifecycle: every state a trade idea can be in, and the only moves between them."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from storage.models import ProposalRow


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


def transition(proposal: ProposalRow, to: ProposalStatus, actor: str, now: datetime) -> None:
    current = ProposalStatus(proposal.status)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"proposal {proposal.id} cannot go from {current.value} to {to.value}")
    proposal.status = to.value
    proposal.updated_at = now
    proposal.updated_by = actor


def is_expired(proposal: ProposalRow, now: datetime) -> bool:
    return proposal.status == ProposalStatus.PROPOSED.value and now >= proposal.expires_at
