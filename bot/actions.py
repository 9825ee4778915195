"""Commands and button presses from any chat: check the caller's role, call the operator service,
answer with a document. Channels only parse their input into (command, arguments) and render.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from service.chat_ops import COMMANDS, COMMANDS_BY_NAME, CommandRecord, Role, SubscriptionError
from service.operator import ActionResult, OperatorService, StateChange
from bot import documents as docs
from bot.document import Doc

log = logging.getLogger(__name__)

# Commands that need a service method the trading or eval side provides; offered once it exists.
_NEEDS = {"approve": "approve", "reject": "reject", "size": "size", "positions": "positions", "pnl": "pnl",
          "orders": "orders", "reduce": "reduce", "eval": "evaluation_summary"}
CONFIRM = "confirm"
# Commands that may take seconds (the broker answers over the network; the evaluation resolves outcomes
# and draws): adapters run them in a worker thread so the bot keeps polling and delivering meanwhile.
SLOW = frozenset({"eval", "approve", "size", "positions", "pnl", "orders", "resume"})
# Commands that change nothing: answered at once, side by side; every other command waits its turn,
# so two state changes (a /pause and an /approve) never interleave.
READS_ONLY = frozenset({"start", "help", "status", "digest", "signals", "proposals"})
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


@dataclass(frozen=True)
class Caller:
    channel: str  # "telegram" | "discord"
    user_id: int | None
    chat_id: int | None
    role: Role

    @property
    def actor(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @property
    def prefix(self) -> str:
        """How commands are typed on this channel."""
        return "!" if self.channel == "discord" else "/"


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # what the press sends back, e.g. "approve:12" (Telegram allows 64 bytes)


@dataclass(frozen=True)
class Reply:
    doc: Doc
    outcome: str = "OK"  # for the command log: OK, REFUSED, BAD_INPUT, ERROR or the service's code
    buttons: tuple[tuple[Button, ...], ...] = ()
    settled: bool = False  # a proposal was answered for good: its buttons can go
    photo: bytes | None = None  # a picture to send after the text (the evaluation's reliability plot)
    photo_caption: str = ""


class UsageError(ValueError):
    """Garbled arguments; the message shows the right usage."""


def proposal_buttons(proposal_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button("Approve", f"approve:{proposal_id}"), Button("Reject", f"reject:{proposal_id}")),
        (Button("½×", f"size:{proposal_id}:0.5x"), Button("2×", f"size:{proposal_id}:2x")),
    )


def _proposal_id(args: Sequence[str], usage: str) -> int:
    if not args or not args[0].lstrip("#").isdigit():
        raise UsageError(f"Usage: {usage}")
    return int(args[0].lstrip("#"))


class Actions:
    def __init__(self, service: OperatorService, on_record: Callable[[CommandRecord], None] | None = None) -> None:
        self.service = service
        self.available = frozenset(c.name for c in COMMANDS if c.name not in _NEEDS or hasattr(service, _NEEDS[c.name]))
        self._record = on_record or service.log_command

    def run(self, caller: Caller, name: str, args: Sequence[str], confirm: bool = False) -> Reply:
        """Execute one command for `caller` and log it; never raises (failures become a reply and a log line)."""
        reply, record = self.handle(caller, name, args, confirm)
        self._record(record)
        return reply

    def handle(self, caller: Caller, name: str, args: Sequence[str],
               confirm: bool = False) -> tuple[Reply, CommandRecord]:
        """`run` without writing the log entry: the caller stores it with the reply, in one commit."""
        spec = COMMANDS_BY_NAME.get(name)
        if caller.role is Role.STRANGER or (spec is not None and not caller.role.may(spec.role)):
            reply = self._refuse(caller, name)  # strangers learn nothing, not even which commands exist
        elif spec is None or name not in self.available:
            p = caller.prefix
            reply = Reply(docs.problem_doc(f"Unknown command {p}{name}. {p}help lists what you may use."), "UNKNOWN")
        else:
            reply = self._execute(caller, name, list(args), confirm)
        arguments = " ".join(args) + (" (confirmed)" if confirm else "")
        return reply, CommandRecord(caller.channel, caller.user_id, caller.chat_id, name, arguments, caller.role,
                                    reply.outcome != "REFUSED", reply.outcome)

    @staticmethod
    def reads_only(name: str) -> bool:
        """Whether the command only reads (it may then run beside others, in any order)."""
        return name in READS_ONLY

    def runs_long(self, caller: Caller, name: str) -> bool:
        """Whether this command, for this caller, may block for a while (a refusal never does)."""
        spec = COMMANDS_BY_NAME.get(name)
        return name in SLOW and spec is not None and caller.role is not Role.STRANGER and caller.role.may(spec.role)

    def press(self, caller: Caller, data: str) -> Reply:
        """A button press: the same command, the same checks, as if it had been typed."""
        parts = data.split(":")
        if caller.role is Role.STRANGER:  # refused and logged like a typed command, whatever the button
            return self.run(caller, parts[0] or "button", [])
        confirm = parts[-1] == CONFIRM
        if confirm:
            parts = parts[:-1]
        if parts == ["cancel"]:
            return Reply(docs.info_doc("Cancelled: nothing was changed."))
        name, args = parts[0], parts[1:]
        if name not in ("approve", "reject", "size", "resume") or not all(args):
            return Reply(docs.problem_doc("That button is not valid any more."), "BAD_INPUT")
        return self.run(caller, name, args, confirm)

    def _refuse(self, caller: Caller, name: str) -> Reply:
        log.warning("refused %s%s from %s user %s in chat %s (%s)", caller.prefix, name, caller.channel,
                    caller.user_id, caller.chat_id, caller.role.value)
        show_id = name in ("start", "help") and caller.channel == "telegram"  # how a new user learns their id
        return Reply(docs.refusal_doc(caller.user_id, show_id), "REFUSED")

    def _execute(self, caller: Caller, name: str, args: list[str], confirm: bool) -> Reply:
        try:
            return getattr(self, f"_cmd_{name}")(caller, args, confirm)
        except (UsageError, SubscriptionError) as exc:
            return Reply(docs.problem_doc(str(exc)), "BAD_INPUT")
        except Exception:  # the chat gets a sentence, the log gets the traceback
            log.exception("/%s from %s failed", name, caller.actor)
            return Reply(docs.problem_doc("Something went wrong on our side; it is in the log. Nothing was changed "
                                          "unless /status says so."), "ERROR")

    # --- everyone who may use the bot ---

    def _cmd_start(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        intro = docs.info_doc("Tracer Bullet", f"You are known here as {caller.role.value}.",
                              "Digests, signals and trade proposals come to this chat. /help lists your commands.")
        return Reply(intro)

    def _cmd_help(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.help_doc(self.service.help(caller.role, self.available), caller.prefix))

    def _cmd_status(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.status_doc(self.service.status()))

    def _cmd_digest(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        snapshot = self.service.digest_now()
        if snapshot is None:
            return Reply(docs.info_doc("No digest yet: no cycle has finished."), "EMPTY")
        return Reply(docs.digest_doc(snapshot.digest))

    def _cmd_signals(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.signals_doc(self.service.recent_signals()))

    def _cmd_eval(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        summary = self.service.evaluation_summary()
        return Reply(docs.weekly_doc(summary), photo=summary.photo, photo_caption=summary.photo_caption)

    # --- subscribers ---

    def _cmd_subscribe(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        time = zone = None
        alerts = True
        for token in args:
            if _TIME.match(token):
                time = token
            elif token.lower() in ("alerts", "noalerts"):
                alerts = token.lower() == "alerts"
            elif zone is None:
                zone = token
            else:
                raise UsageError("Usage: /subscribe [HH:MM] [Area/City] [alerts|noalerts], e.g. /subscribe 07:30 Europe/Berlin")
        assert caller.chat_id is not None
        return Reply(docs.subscription_doc(self.service.subscribe(caller.chat_id, caller.actor, time, zone, alerts)))

    def _cmd_unsubscribe(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        assert caller.chat_id is not None
        return Reply(docs.unsubscribed_doc(self.service.unsubscribe(caller.chat_id, caller.actor)))

    # --- operators ---

    def _cmd_proposals(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        proposals = self.service.proposals()
        buttons = proposal_buttons(proposals[0].id) if len(proposals) == 1 else ()
        return Reply(docs.proposals_doc(proposals), buttons=buttons)

    def _cmd_pause(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return self._state_reply(self.service.pause(caller.actor), "pause")

    def _cmd_resume(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        # After a halt by a guard, resuming asks for a confirmation first.
        return self._state_reply(self.service.resume(caller.actor, confirm=confirm), "resume")

    def _cmd_reduce(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return self._state_reply(self.service.reduce(caller.actor), "reduce")

    def _state_reply(self, result: StateChange | ActionResult, name: str) -> Reply:
        if isinstance(result, StateChange):
            return Reply(docs.state_change_doc(result))
        return self._action_reply(result, f"{name}:{CONFIRM}", f"Confirm {name}")

    def _cmd_approve(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        pid = _proposal_id(args, "/approve ID, e.g. /approve 12")
        result = self.service.approve(pid, caller.actor, confirm=confirm)  # type: ignore[attr-defined]
        return self._action_reply(result, f"approve:{pid}:{CONFIRM}", f"Confirm approve #{pid}")

    def _cmd_reject(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        pid = _proposal_id(args, "/reject ID, e.g. /reject 12")
        return self._action_reply(self.service.reject(pid, caller.actor), "", "")  # type: ignore[attr-defined]

    def _cmd_size(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        usage = "/size ID X, where X is a quantity (0.25), a share of equity (5%) or a multiplier (0.5x)"
        pid = _proposal_id(args, usage)
        if len(args) != 2:
            raise UsageError(f"Usage: {usage}")
        result = self.service.size(pid, args[1], caller.actor, confirm=confirm)  # type: ignore[attr-defined]
        reply = self._action_reply(result, f"size:{pid}:{args[1]}:{CONFIRM}", f"Confirm size {args[1]} for #{pid}")
        if result.ok and result.proposal is not None and result.proposal.status == "proposed":
            return Reply(reply.doc, reply.outcome, proposal_buttons(pid))  # resized: still to approve
        return reply

    def _action_reply(self, result: ActionResult, confirm_data: str, confirm_label: str) -> Reply:
        if result.needs_confirmation and confirm_data:
            buttons = ((Button(confirm_label, confirm_data), Button("Cancel", "cancel")),)
            return Reply(docs.action_doc(result), "NEEDS_CONFIRMATION", buttons)
        settled = result.proposal is not None and result.proposal.status != "proposed"
        return Reply(docs.action_doc(result), result.code if not result.ok else "OK", settled=settled)

    def _cmd_positions(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.positions_doc(self.service.positions()))  # type: ignore[attr-defined]

    def _cmd_pnl(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.pnl_doc(self.service.pnl()))  # type: ignore[attr-defined]

    def _cmd_orders(self, caller: Caller, args: list[str], confirm: bool) -> Reply:
        return Reply(docs.orders_doc(self.service.orders()))  # type: ignore[attr-defined]


def describe_buttons(buttons: tuple[tuple[Button, ...], ...]) -> list[list[dict[str, Any]]]:
    """Buttons as Telegram's inline keyboard JSON (stored in the outbox with the message)."""
    return [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]
