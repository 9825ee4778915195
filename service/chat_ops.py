"""Chat operations behind the operator service: who may use what, subscriptions, stored digests, signals.

Plain functions over the store so that `OperatorService` (service/operator.py) stays a thin facade and
every chat adapter (Telegram, Discord, the command line) reads the same data.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intelligence.digest import Digest, digest_item, rank_signals
from intelligence.prediction_markets import PredictionMarketsSection
from intelligence.types import Direction
from pipeline.markets import stored_section
from pipeline.universe import asset_name
from storage.chat_models import ChatCommandLog, ChatConfirmation, ChatSubscription
from storage.db import Sessions
from storage.statements import rows_changed
from storage.models import ProposalRow, Run, SignalRow
from service.roles import Role, UsageError
from trading import audit
from trading.proposal_builder import ProposalOutcome, SinceLast, changes_since_last
from service.proposal_card import ProposalCard, build_cards
from trading.views import ProposalView


class SubscriptionError(UsageError):
    """A /subscribe argument is wrong; the message says what is allowed."""


@dataclass(frozen=True)
class SubscriptionView:
    chat_id: int
    active: bool
    digest_time: str
    timezone: str
    immediate_alerts: bool
    last_digest_on: str | None
    updated_by: str | None = None  # the actor who last subscribed it ("telegram:<user id>")
    silent: bool = False  # digests and alerts arrive without a sound (Telegram's disable_notification)

    def made_by(self, actors: Iterable[str]) -> bool:
        """Whether one of `actors` subscribed the chat as it stands: a group is readable by its members only
        when an operator subscribed it (a subscriber's /subscribe in a group is refused; one made before that
        rule, or by someone no longer an operator, makes nobody a reader)."""
        return self.updated_by is not None and self.updated_by in set(actors)


def _sub_view(row: ChatSubscription) -> SubscriptionView:
    return SubscriptionView(row.chat_id, row.active, row.digest_time, row.timezone, row.immediate_alerts,
                            row.last_digest_on, row.updated_by, bool(row.silent))


def parse_time_of_day(text: str) -> time:
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise SubscriptionError(f"'{text}' is not a time of day; use HH:MM, e.g. 08:30") from None
    return parsed.replace(second=0, microsecond=0)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriptionError(f"'{name}' is not a timezone; use an IANA name such as Europe/Berlin or UTC") from None


def _local(now: datetime, timezone: str) -> datetime:
    return now.astimezone(zone(timezone))


def _passed_today(now: datetime, digest_time: str, timezone: str) -> tuple[bool, date]:
    local = _local(now, timezone)
    return local.time() >= parse_time_of_day(digest_time), local.date()


def subscribe(sessions: Sessions, chat_id: int, actor: str, now: datetime, digest_time: str, timezone: str,
              immediate_alerts: bool, silent: bool = False) -> SubscriptionView:
    """Create or change a chat's subscription; today's digest is not sent if its time already passed."""
    hhmm = parse_time_of_day(digest_time).strftime("%H:%M")
    zone(timezone)
    passed, today = _passed_today(now, hhmm, timezone)
    with sessions.begin() as session:
        row = session.get(ChatSubscription, chat_id)
        if row is None:
            row = ChatSubscription(chat_id=chat_id, created_at=now)
            session.add(row)
        row.active, row.digest_time, row.timezone, row.immediate_alerts = True, hhmm, timezone, immediate_alerts
        row.silent = silent
        row.last_digest_on = today.isoformat() if passed else None
        row.updated_at, row.updated_by = now, actor
        view = _sub_view(row)
        audit.append(session, actor, "chat.subscribe", {
            "chat_id": chat_id, "digest_time": hhmm, "timezone": timezone, "immediate_alerts": immediate_alerts,
            "silent": silent,
        }, now)
        return view


def unsubscribe(sessions: Sessions, chat_id: int, actor: str, now: datetime) -> bool:
    """Stop digest and immediate alerts; True when the chat was subscribed."""
    with sessions.begin() as session:
        row = session.get(ChatSubscription, chat_id)
        if row is None or not row.active:
            return False
        row.active, row.updated_at, row.updated_by = False, now, actor
        audit.append(session, actor, "chat.unsubscribe", {"chat_id": chat_id}, now)
        return True


def subscription(sessions: Sessions, chat_id: int) -> SubscriptionView | None:
    with sessions() as session:
        row = session.get(ChatSubscription, chat_id)
        return _sub_view(row) if row is not None and row.active else None


def active_subscriptions(sessions: Sessions) -> list[SubscriptionView]:
    with sessions() as session:
        rows = session.scalars(select(ChatSubscription).where(ChatSubscription.active).order_by(ChatSubscription.chat_id))
        return [_sub_view(r) for r in rows]


def digests_due(sessions: Sessions, now: datetime) -> list[tuple[SubscriptionView, str]]:
    """Subscriptions whose digest time has passed today (their time zone) and not yet delivered today,
    each with that local date (the key of the day's digest)."""
    due = []
    for sub in active_subscriptions(sessions):
        passed, today = _passed_today(now, sub.digest_time, sub.timezone)
        if passed and sub.last_digest_on != today.isoformat():
            due.append((sub, today.isoformat()))
    return due


def mark_digest_sent(sessions: Sessions, chat_id: int, local_date: str) -> None:
    with sessions.begin() as session:
        row = session.get(ChatSubscription, chat_id)
        if row is not None:
            row.last_digest_on = local_date


@dataclass(frozen=True)
class SignalView:
    id: int
    run_id: int
    symbol: str
    as_of: datetime
    direction: Direction
    probability: float | None
    conviction: float
    reason_codes: tuple[str, ...]
    evidence: str
    seen: int = 1  # cycles that made this same signal (storage/signal_keys.py): one row for all of them
    first_seen: datetime | None = None  # as-of of the first of them

    @property
    def actionable(self) -> bool:  # what rank_signals orders by, as on intelligence.signal.Signal
        return self.direction is not Direction.HOLD


def _signal_view(row: SignalRow, seen: int = 1, first_seen: datetime | None = None) -> SignalView:
    return SignalView(row.id, row.run_id, row.symbol, row.as_of, Direction(row.direction), row.probability,
                      row.conviction, tuple(row.reason_codes), row.evidence, seen, first_seen or row.as_of)


def recent_signals(sessions: Sessions, limit: int) -> list[SignalView]:
    """The newest distinct BUY/SELL signals, newest first: a signal repeated by later cycles on the same story
    is one row (its latest numbers) that says how often it was seen and since when."""
    groups = (select(SignalRow.fingerprint, func.max(SignalRow.id).label("last"), func.count().label("seen"),
                     func.min(SignalRow.as_of).label("first"))
              .where(SignalRow.direction != Direction.HOLD.value)
              .group_by(SignalRow.fingerprint).order_by(func.max(SignalRow.id).desc()).limit(limit))
    with sessions() as session:
        found = session.execute(groups).all()
        rows = {r.id: r for r in session.scalars(select(SignalRow).where(SignalRow.id.in_([g.last for g in found])))}
        return [_signal_view(rows[g.last], g.seen, g.first) for g in found]


def run_signals(sessions: Sessions, run_id: int) -> list[SignalView]:
    with sessions() as session:
        return [_signal_view(r) for r in session.scalars(select(SignalRow).where(SignalRow.run_id == run_id))]


@dataclass(frozen=True)
class DigestSnapshot:
    run_id: int
    digest: Digest
    proposal: ProposalCard | None  # the run's trade proposal, as it stands now
    outcome: ProposalOutcome | None = None  # why the run proposed or did not (known to the run itself)
    since_last: SinceLast | None = None  # what changed since the proposal before the run's, on the same asset


def run_digest(sessions: Sessions, run_id: int, take_profit_ratio: float, fallback_equity: float | None,
               as_of_basis: str = "", outcome: ProposalOutcome | None = None) -> DigestSnapshot | None:
    """A finished run's digest, rebuilt from what it stored: the same rows whichever channel asks."""
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None or run.as_of is None:
            return None
        rows = list(session.scalars(select(SignalRow).where(SignalRow.run_id == run.id)))
        by_id = {row.id: row for row in rows}
        items = tuple(
            digest_item(rank, s.symbol, asset_name(s.symbol), s.direction,
                        s.probability, s.conviction, s.reason_codes, s.evidence, by_id[s.id].features or {})
            for rank, s in enumerate(rank_signals([_signal_view(r) for r in rows]), start=1)
        )
        proposal = session.scalars(
            select(ProposalRow).where(ProposalRow.signal_id.in_(list(by_id))).order_by(ProposalRow.id.desc())).first()
        card = build_cards(session, [proposal], take_profit_ratio, fallback_equity)[0] if proposal is not None else None
        digest = Digest(run.as_of, run.sentiment_backend, run.headline_count, items, tuple(run.problems), as_of_basis,
                        prediction_markets=stored_section(session, run.id))
        since = changes_since_last(session, proposal.id) if proposal is not None else None
        return DigestSnapshot(run.id, digest, card, outcome, since)


def _latest_run_id(session: Session) -> int | None:
    return session.scalar(
        select(Run.id).where(Run.status.in_(("ok", "degraded")), Run.as_of.is_not(None)).order_by(Run.id.desc()).limit(1))


def latest_digest(sessions: Sessions, take_profit_ratio: float, fallback_equity: float | None) -> DigestSnapshot | None:
    """The digest of the newest finished run."""
    with sessions() as session:
        run_id = _latest_run_id(session)
    return run_digest(sessions, run_id, take_profit_ratio, fallback_equity) if run_id is not None else None


def latest_markets(sessions: Sessions) -> tuple[int | None, datetime | None, PredictionMarketsSection | None]:
    """The newest finished run (id, as-of) and its prediction-markets section as it stored it (None when it did
    not read them); (None, None, None) before the first run."""
    with sessions() as session:
        run_id = _latest_run_id(session)
        run = session.get(Run, run_id) if run_id is not None else None
        if run is None:
            return None, None, None
        return run.id, run.as_of, stored_section(session, run.id)


@dataclass(frozen=True)
class CommandRecord:
    channel: str
    user_id: int | None
    chat_id: int | None
    command: str
    arguments: str
    role: Role
    allowed: bool
    outcome: str


def command_log_row(now: datetime, record: CommandRecord) -> ChatCommandLog:
    return ChatCommandLog(
        at=now, channel=record.channel, user_id=record.user_id, chat_id=record.chat_id,
        command=record.command[:32], arguments=record.arguments[:500], role=record.role.value,
        allowed=record.allowed, outcome=record.outcome[:64],
    )


def log_command(sessions: Sessions, now: datetime, record: CommandRecord) -> None:
    with sessions.begin() as session:
        session.add(command_log_row(now, record))


# --- confirmations asked in chat, kept server-side (storage/chat_models.ChatConfirmation) ---

CONFIRMATION_TTL = timedelta(minutes=15)  # a question nobody answers goes stale; a proposal's expiry may be sooner


@dataclass(frozen=True)
class Confirmation:
    token: str
    user_id: int | None
    command: str
    arguments: tuple[str, ...]
    proposal_id: int | None
    proposal_version: str | None


def ask_confirmation(sessions: Sessions, now: datetime, user_id: int | None, chat_id: int | None, command: str,
                     arguments: Sequence[str], proposal: ProposalView | None) -> str:
    """Keep the question; returns its token (what the Confirm and Cancel buttons carry)."""
    token = secrets.token_urlsafe(9)  # 12 characters
    expires = now + CONFIRMATION_TTL
    if proposal is not None:
        expires = min(expires, proposal.expires_at)
    with sessions.begin() as session:
        session.add(ChatConfirmation(token=token, user_id=user_id, chat_id=chat_id, command=command,
                                     arguments=list(arguments), proposal_id=proposal.id if proposal else None,
                                     proposal_version=proposal.version if proposal else None, state="pending",
                                     created_at=now, expires_at=expires))
    return token


def answer_confirmation(sessions: Sessions, token: str, user_id: int | None, now: datetime,
                        cancel: bool = False) -> Confirmation | str:
    """Take the question's answer once: the Confirmation to carry out, or why not (a sentence)."""
    with sessions.begin() as session:
        row = session.get(ChatConfirmation, token)
        if row is None:
            return "That button is not valid any more."
        if row.user_id is not None and row.user_id != user_id:
            return "Only the operator who asked can answer this confirmation."
        if row.state != "pending":
            return f"That confirmation was already {row.state}; nothing was changed."
        if cancel:
            row.state = "cancelled"
            return "Cancelled: nothing was changed."
        if now >= row.expires_at:
            row.state = "cancelled"
            return "That confirmation has expired; nothing was changed."
        taken = rows_changed(session, update(ChatConfirmation)
                             .where(ChatConfirmation.token == token, ChatConfirmation.state == "pending")
                             .values(state="used").execution_options(synchronize_session=False))
        if not taken:
            return "That confirmation was already answered; nothing was changed."
        return Confirmation(row.token, row.user_id, row.command, tuple(row.arguments), row.proposal_id,
                            row.proposal_version)
