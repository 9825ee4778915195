"""Everything the core wants said, through the outbox: alerts, proposals with buttons, strong signals
and the scheduled digests. What a subscription brings (digests, strong-signal alerts, the weekly summary)
comes without a sound to a chat subscribed `silent`; the trading alerts to operators (a proposal to
answer, a fill, a halt) keep theirs: they are not part of a subscription. `ChatAlerts` implements trading.alerts.Notifier for the desk; `ChatPublisher`
adds what needs the operator service."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from bot import messages as docs
from bot.actions import Button, proposal_buttons
from bot.envelopes import discord_envelope, telegram_envelope, telegram_photo_envelope
from bot.message_model import Doc
from bot.outbox import Outbox
from config import Settings
from service.chat_ops import SubscriptionView
from service.operator import OperatorService
from trading.alerts import Alert, LogNotifier
from service.proposal_card import ProposalCard

if TYPE_CHECKING:  # eval pulls in numpy and matplotlib; only the type is needed here
    from eval.summary import WeeklySummary

log = logging.getLogger(__name__)
# Alerts Discord mirrors (the backup channel sees every one of these, not only on failure).
MIRRORED = frozenset({"proposal", "fill", "exit", "halt", "guard_breach", "error", "reconciliation"})


@dataclass(frozen=True)
class Audience:
    """Who hears what: the channels configured and the people listed in the settings."""

    telegram: bool
    discord: bool
    operators: tuple[int, ...]
    subscribers: tuple[int, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Audience:
        return cls(settings.telegram_token is not None, settings.discord_webhook_url is not None,
                   tuple(settings.telegram_operators), tuple(settings.telegram_subscribers))


# Alerts raised while a chat command runs wait here until its answer is queued: an operator reads "Done"
# before "Order filled", not the other way round. asyncio.to_thread copies the context into the worker.
_HELD: ContextVar[list[Alert] | None] = ContextVar("held_alerts", default=None)


class ChatAlerts:
    """The trading desk's notifier (trading.alerts.Notifier): alerts to the operators on Telegram, mirrored
    to Discord; to the log when no channel is configured. Needs no operator service, so the composition
    root can hand it to the desk before the service exists."""

    def __init__(self, audience: Audience, outbox: Outbox, wake: Callable[[], None] = lambda: None) -> None:
        self.audience = audience
        self.outbox = outbox
        self.wake = wake
        self.telegram = audience.telegram
        self.discord = audience.discord
        self._fallback = LogNotifier()

    def _may_receive(self, chat_id: int) -> bool:
        """Groups an operator subscribed, and people still listed; someone removed from the lists
        stops getting messages in their private chat even if it was subscribed."""
        listed = set(self.audience.operators) | set(self.audience.subscribers)
        return chat_id < 0 or chat_id in listed

    def _to_operators(self, doc: Doc, key: str, kind: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> int:
        queued = 0
        if self.telegram:
            for user_id in self.audience.operators:  # a private chat's id is the user's id
                queued += self.outbox.put(telegram_envelope(doc, user_id, key, kind, buttons))
        if self.discord and kind in MIRRORED:
            queued += self.outbox.put(discord_envelope(doc, key, kind))
        return queued

    @contextmanager
    def held(self) -> Iterator[list[Alert]]:
        """Alerts raised inside the block are kept; the caller sends them with `release` once it answered."""
        held: list[Alert] = []
        token = _HELD.set(held)
        try:
            yield held
        finally:
            _HELD.reset(token)

    def release(self, held: list[Alert]) -> None:
        for alert in held:
            self.alert(alert)

    def alert(self, alert: Alert) -> None:
        """Notifier: operators on Telegram, mirrored to Discord; the same key is delivered once."""
        waiting = _HELD.get()
        if waiting is not None:
            waiting.append(alert)
            return
        if not (self.telegram or self.discord):
            self._fallback.alert(alert)
            return
        if self._to_operators(docs.alert_doc(alert), alert.key, alert.kind):
            self.wake()


class ChatPublisher(ChatAlerts):
    """Everything the core wants said: ChatAlerts plus proposals with buttons, a cycle's strong signals,
    the scheduled digests and the weekly summary, which read the operator service."""

    def __init__(self, alerts: ChatAlerts, service: OperatorService) -> None:
        super().__init__(alerts.audience, alerts.outbox, alerts.wake)
        self.service = service

    def proposal(self, card: ProposalCard) -> None:
        """A new proposal to every operator, as a card to decide on, with its bound buttons."""
        if self._to_operators(docs.proposal_doc(card), f"proposal:{card.proposal.id}", "proposal", proposal_buttons(card)):
            self.wake()

    def cycle_finished(self, run_id: int, proposal_id: int | None) -> None:
        """After a cycle: its proposal to the operators, its strong signals to those who want them at once."""
        if proposal_id is not None:
            card = self.service.proposal_card(proposal_id)
            if card is not None and card.proposal.status == "proposed":
                self.proposal(card)
        if not self.telegram:
            return
        queued = 0
        chats = [s for s in self.service.subscriptions() if s.immediate_alerts and self._may_receive(s.chat_id)]
        for signal in self.service.strong_signals(run_id):
            doc, key = docs.strong_signal_doc(signal), f"signal:{signal.id}"
            for sub in chats:
                queued += self.outbox.put(telegram_envelope(doc, sub.chat_id, key, "signal", backup_key=key,
                                                            silent=sub.silent))
        if queued:
            self.wake()

    def due_digests(self) -> int:
        """Queue today's digest for every subscription whose time has come; returns how many."""
        if not self.telegram:
            return 0
        due: list[tuple[SubscriptionView, str]] = self.service.digests_due()
        if not due:
            return 0
        snapshot = self.service.digest_now()
        if snapshot is None:
            return 0  # nothing to say yet; the day stays open and the digest goes once a cycle finished
        doc = docs.digest_doc(snapshot)
        queued = 0
        for sub, local_date in due:
            if self._may_receive(sub.chat_id):
                queued += self.outbox.put(telegram_envelope(doc, sub.chat_id, f"digest:{local_date}", "digest",
                                                            backup_key=f"digest:run{snapshot.run_id}", silent=sub.silent))
            self.service.mark_digest_sent(sub.chat_id, local_date)
        if queued:
            self.wake()
        return queued

    def weekly_summary(self, summary: WeeklySummary) -> int:
        """The evaluation summary (and its picture) to every subscribed chat, once per summary key;
        usable as the `send` of eval.schedule.add_weekly_job."""
        if not self.telegram:
            if self.discord:
                sent = self.outbox.put(discord_envelope(docs.weekly_doc(summary), summary.key, "weekly"))
                self.wake()
                return int(sent)
            return 0
        doc, queued = docs.weekly_doc(summary), 0
        for sub in self.service.subscriptions():
            if self._may_receive(sub.chat_id):
                queued += self.outbox.put(telegram_envelope(doc, sub.chat_id, summary.key, "weekly", backup_key=summary.key,
                                                            silent=sub.silent))
                if summary.photo:
                    key = f"{summary.key}:photo"
                    queued += self.outbox.put(telegram_photo_envelope(summary.photo, summary.photo_caption, sub.chat_id,
                                                                      key, backup_key=key, silent=sub.silent))
        if queued:
            self.wake()
        return queued
