"""The audit trail's hash chain: intact when untouched; any edit, removal or reordering is named."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update

import tracer_bullet
from storage.db import open_store
from storage.trading_models import AuditHeadRow, AuditRow
from tests.conftest import utc
from tests.trading_fixtures import db_url, template_db  # noqa: F401  (fixtures)
from trading import audit

NOW = utc(2026, 1, 5, 9)


@pytest.fixture
def sessions(db_url: str):
    sessions = open_store(db_url)
    with sessions.begin() as session:
        for i in range(5):
            audit.append(session, f"op{i}", "proposal.approved", {"proposal_id": i, "price": 3000.5 + i, "note": "ünïcode"},
                         NOW + timedelta(seconds=i))
    return sessions


def _verify(sessions) -> audit.ChainReport:
    with sessions() as session:
        return audit.verify(session)


def test_intact_chain(sessions) -> None:
    report = _verify(sessions)
    assert report.intact and report.count == 5
    with sessions() as session:
        rows = audit.recent(session)
    assert [r.seq for r in rows] == [5, 4, 3, 2, 1]
    assert rows[-1].prev_hash == audit.GENESIS and rows[0].prev_hash == rows[1].hash


def test_empty_chain_is_intact(db_url: str) -> None:
    assert _verify(open_store(db_url)) == audit.ChainReport(0, None, None)


@pytest.mark.parametrize(("tamper", "seq", "words"), [
    (update(AuditRow).where(AuditRow.seq == 3).values(payload='{"proposal_id":2,"price":1}'), 3, "altered"),
    (update(AuditRow).where(AuditRow.seq == 2).values(actor="someone else"), 2, "altered"),
    (update(AuditRow).where(AuditRow.seq == 4).values(at=NOW + timedelta(days=1)), 4, "altered"),
    (delete(AuditRow).where(AuditRow.seq == 2), 2, "missing"),
    (delete(AuditRow).where(AuditRow.seq == 5), 5, "removed"),
    (update(AuditHeadRow).values(last_seq=4), 5, "removed"),
])
def test_tampering_names_the_first_broken_link(sessions, tamper, seq: int, words: str) -> None:
    with sessions.begin() as session:
        session.execute(tamper)
    report = _verify(sessions)
    assert not report.intact and report.broken_seq == seq and words in (report.reason or "")


def test_a_rehashed_row_still_breaks_the_next_link(sessions) -> None:
    """Recomputing the altered row's own hash does not help: the next link points at the old one."""
    with sessions.begin() as session:
        row = session.get_one(AuditRow, 3)
        row.payload = '{"forged":true}'
        row.hash = audit.link_hash(row.prev_hash, row.seq, row.at, row.actor, row.kind, row.payload)
    report = _verify(sessions)
    assert report.broken_seq == 4 and "does not point" in (report.reason or "")


def test_appends_continue_the_chain_across_sessions(sessions) -> None:
    with sessions.begin() as session:
        row = audit.append(session, "op", "trading.halt", {"code": "GUARD_DRAWDOWN"}, NOW + timedelta(hours=1))
    assert row.seq == 6 and _verify(sessions).intact


def test_audit_verify_command(sessions, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TB_DATABASE_URL", db_url)
    assert tracer_bullet.main(["audit", "verify"]) == 0
    assert "intact: 5 links" in capsys.readouterr().out
    with sessions.begin() as session:
        session.execute(update(AuditRow).where(AuditRow.seq == 2).values(kind="proposal.rejected"))
    assert tracer_bullet.main(["audit", "verify"]) == 1
    assert "BROKEN at link 2" in capsys.readouterr().out
    assert tracer_bullet.main(["audit", "verify", "--json"]) == 1
    assert '"broken_seq": 2' in capsys.readouterr().out
