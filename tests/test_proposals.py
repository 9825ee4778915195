from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.models import ProposalRow
from trading.proposals import TRANSITIONS, IllegalTransition, ProposalStatus, is_expired, transition
from tests.conftest import utc

NOW = utc(2026, 11, 21, 9)


def _proposal(status: ProposalStatus = ProposalStatus.PROPOSED) -> ProposalRow:
    return ProposalRow(
        id=7, signal_id=1, symbol="ETH", side="buy", quantity=1.0, notional=3000.0, reference_price=3000.0,
        probability=0.55, status=status.value, created_at=NOW, expires_at=NOW + timedelta(hours=4),
        updated_at=NOW, updated_by="engine",
    )


def test_legal_path_records_actor_and_time() -> None:
    p = _proposal()
    for step, to in enumerate((ProposalStatus.APPROVED, ProposalStatus.SUBMITTED, ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED)):
        transition(p, to, f"actor{step}", NOW + timedelta(minutes=step))
    assert p.status == "filled" and p.updated_by == "actor3" and p.updated_at == NOW + timedelta(minutes=3)


@given(st.sampled_from(list(ProposalStatus)), st.sampled_from(list(ProposalStatus)))
def test_illegal_transitions_raise_and_change_nothing(start: ProposalStatus, to: ProposalStatus) -> None:
    p = _proposal(start)
    if to in TRANSITIONS[start]:
        transition(p, to, "op", NOW)
        assert p.status == to.value
    else:
        with pytest.raises(IllegalTransition):
            transition(p, to, "op", NOW)
        assert p.status == start.value and p.updated_by == "engine"


def test_terminal_states_are_final() -> None:
    for status in (ProposalStatus.REJECTED, ProposalStatus.EXPIRED, ProposalStatus.FILLED, ProposalStatus.CANCELLED, ProposalStatus.FAILED):
        assert TRANSITIONS[status] == frozenset()


def test_expiry_is_only_for_unanswered_proposals() -> None:
    assert not is_expired(_proposal(), NOW + timedelta(hours=3, minutes=59))
    assert is_expired(_proposal(), NOW + timedelta(hours=4))
    assert not is_expired(_proposal(ProposalStatus.APPROVED), NOW + timedelta(days=1))
