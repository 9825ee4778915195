"""Account-level watch: a daily loss, drawdown or exposure breach halts trading and alerts operators.

An operator may resume after such a halt (with a confirmation); that acknowledges the breaches of
the current market day, so the watch does not halt again at once for the same breach. The order
guards still refuse new risk while the breach lasts: resuming lets positions be reduced.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from trading.alerts import Alert, Notifier
from storage.models import StateRow
from trading import audit
from trading.guards import Breach, GuardContext, GuardLimits, check_account
from trading.state import TradingState, read_state, write_state

ACK_KEY = "trading.halt_ack"
GUARD_ACTOR_PREFIX = "guard:"


def halted_by_guard(session: Session) -> str | None:
    """The reason code of a guard halt in force, None when not halted by a guard."""
    record = read_state(session)
    if record.state is TradingState.HALTED and record.by and record.by.startswith(GUARD_ACTOR_PREFIX):
        return record.by.removeprefix(GUARD_ACTOR_PREFIX)
    return None


def acknowledge(session: Session, context: GuardContext, limits: GuardLimits, actor: str, now: datetime) -> None:
    codes = sorted({b.code for b in check_account(context, limits)})
    value = json.dumps({"day": context.market_now.date().isoformat(), "codes": codes})
    row = session.get(StateRow, ACK_KEY)
    if row is None:
        session.add(StateRow(key=ACK_KEY, value=value, updated_at=now, updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = value, now, actor


def _acknowledged(session: Session, market_now: datetime) -> set[str]:
    row = session.get(StateRow, ACK_KEY)
    if row is None:
        return set()
    ack = json.loads(row.value)
    return set(ack["codes"]) if ack.get("day") == market_now.date().isoformat() else set()


def watch(session: Session, context: GuardContext, limits: GuardLimits, notifier: Notifier, now: datetime) -> Breach | None:
    """Halt on the first unacknowledged account breach; returns it (None: nothing new)."""
    if context.state is TradingState.HALTED:
        return None
    acknowledged = _acknowledged(session, context.market_now)
    fresh = [b for b in check_account(context, limits) if b.code not in acknowledged]
    if not fresh:
        return None
    breach = fresh[0]
    write_state(session, TradingState.HALTED, GUARD_ACTOR_PREFIX + breach.code, now)
    audit.append(session, GUARD_ACTOR_PREFIX + breach.code, "trading.halt", {
        "code": breach.code, "message": breach.message, "equity": context.account.equity,
        "day_start_equity": context.account.day_start_equity, "peak_equity": context.account.peak_equity,
        "gross_exposure": context.account.gross_exposure,
    }, now)
    notifier.alert(Alert("halt", f"Trading HALTED by the {breach.guard} guard ({breach.code}): {breach.message} "
                                 "An operator must resume it (with confirmation).",
                         f"halt:{breach.code}:{context.market_now.date().isoformat()}"))
    return breach
