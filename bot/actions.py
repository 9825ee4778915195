"""Commands and button presses from any chat: the table's row says who may run it and how it parses;
its handler calls the operator service; the answer becomes a `Reply` with the message model and buttons.
Channels only turn their input into (command, words) and render the reply.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from bot import messages as docs
from bot.message_model import Doc
from eval.summary import WeeklySummary
from service.chat_ops import CommandRecord
from service.commands import COMMANDS_BY_NAME, Call, CommandSpec, Role, UsageError, parse_words
from service.operator import ActionResult, OperatorService
from service.commands import Help
from service.results import NoDigest, Proposals

log = logging.getLogger(__name__)
CONFIRM = "confirm"


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


def proposal_buttons(proposal_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button("Approve", f"approve:{proposal_id}"), Button("Reject", f"reject:{proposal_id}")),
        (Button("½×", f"size:{proposal_id}:0.5x"), Button("2×", f"size:{proposal_id}:2x")),
    )


def allowed(caller: Caller, spec: CommandSpec | None) -> bool:
    """Strangers may do nothing (not even learn which commands exist); others what their role allows."""
    return caller.role is not Role.STRANGER and (spec is None or caller.role.may(spec.role))


class Actions:
    def __init__(self, service: OperatorService, on_record: Callable[[CommandRecord], None] | None = None) -> None:
        self.service = service
        self._record = on_record or service.log_command

    def run(self, caller: Caller, name: str, args: Sequence[str], confirm: bool = False) -> Reply:
        """Execute one command for `caller` and log it; never raises (failures become a reply and a log line)."""
        reply, record = self.handle(caller, name, args, confirm)
        self._record(record)
        return reply

    def handle(self, caller: Caller, name: str, args: Sequence[str],
               confirm: bool = False) -> tuple[Reply, CommandRecord]:
        """`run` without writing the log entry: the caller stores it with the reply, in one commit."""
        spec = chat_spec(name)
        if not allowed(caller, spec):
            reply = self._refuse(caller, name)
        elif spec is None:
            p = caller.prefix
            reply = Reply(docs.problem_doc(f"Unknown command {p}{name}. {p}help lists what you may use."), "UNKNOWN")
        else:
            reply = self._execute(caller, spec, list(args), confirm)
        arguments = " ".join(args) + (" (confirmed)" if confirm else "")
        return reply, CommandRecord(caller.channel, caller.user_id, caller.chat_id, name, arguments, caller.role,
                                    reply.outcome != "REFUSED", reply.outcome)

    @staticmethod
    def reads_only(name: str) -> bool:
        """Whether the command only reads (it may then run beside others, in any order)."""
        spec = chat_spec(name)
        return spec is not None and spec.reads_only

    def runs_long(self, caller: Caller, name: str) -> bool:
        """Whether this command, for this caller, may block for a while (a refusal never does)."""
        spec = chat_spec(name)
        return spec is not None and spec.slow and allowed(caller, spec)

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
        spec = chat_spec(parts[0])
        if spec is None or not spec.button or not all(parts[1:]):
            return Reply(docs.problem_doc("That button is not valid any more."), "BAD_INPUT")
        return self.run(caller, spec.name, parts[1:], confirm)

    def _refuse(self, caller: Caller, name: str) -> Reply:
        log.warning("refused %s%s from %s user %s in chat %s (%s)", caller.prefix, name, caller.channel,
                    caller.user_id, caller.chat_id, caller.role.value)
        show_id = name in ("start", "help") and caller.channel == "telegram"  # how a new user learns their id
        return Reply(docs.refusal_doc(caller.user_id, show_id), "REFUSED")

    def _execute(self, caller: Caller, spec: CommandSpec, words: list[str], confirm: bool) -> Reply:
        try:
            args = parse_words(spec, words, caller.prefix)
            call = Call(caller.actor, caller.role, "chat", args, caller.chat_id, confirm)
            return self._reply(spec, call, spec.handler(self.service, call), caller.prefix)
        except UsageError as exc:
            return Reply(docs.problem_doc(str(exc)), "BAD_INPUT")
        except Exception:  # the chat gets a sentence, the log gets the traceback
            log.exception("%s from %s failed", spec.name, caller.actor)
            return Reply(docs.problem_doc("Something went wrong on our side; it is in the log. Nothing was changed "
                                          "unless /status says so."), "ERROR")

    def _reply(self, spec: CommandSpec, call: Call, result: Any, prefix: str) -> Reply:
        """The answer in chat: the message model, and the buttons or picture that go with it."""
        if isinstance(result, ActionResult):
            return self._action_reply(spec, call, result)
        if isinstance(result, Help):
            return Reply(docs.help_doc(result, prefix))
        if isinstance(result, NoDigest):
            return Reply(docs.doc_for(result), "EMPTY")
        if isinstance(result, WeeklySummary):
            return Reply(docs.doc_for(result), photo=result.photo, photo_caption=result.photo_caption)
        if isinstance(result, Proposals):
            pending = [p for p in result.items if p.status == "proposed"]
            return Reply(docs.doc_for(result), buttons=proposal_buttons(pending[0].id) if len(pending) == 1 else ())
        return Reply(docs.doc_for(result))

    def _action_reply(self, spec: CommandSpec, call: Call, result: ActionResult) -> Reply:
        doc = docs.doc_for(result)
        if result.needs_confirmation and spec.confirmable:
            values = [str(call.args[a.name]) for a in spec.arguments if call.args.get(a.name) not in (None, False, ())]
            label = f"Confirm {spec.name}"
            if len(values) > 1:
                label += f" {' '.join(values[1:])} for #{values[0]}"
            elif values:
                label += f" #{values[0]}"
            data = ":".join((spec.name, *values, CONFIRM))
            return Reply(doc, "NEEDS_CONFIRMATION", ((Button(label, data), Button("Cancel", "cancel")),))
        outcome = result.code if not result.ok else "OK"
        if spec.name == "size" and result.ok and result.proposal is not None and result.proposal.status == "proposed":
            return Reply(doc, outcome, proposal_buttons(result.proposal.id))  # resized: still to approve
        settled = result.proposal is not None and result.proposal.status != "proposed"
        return Reply(doc, outcome, settled=settled)


def chat_spec(name: str) -> CommandSpec | None:
    """The table's row for a chat command; None for a name chat does not offer."""
    spec = COMMANDS_BY_NAME.get(name)
    return spec if spec is not None and "chat" in spec.channels else None


def describe_buttons(buttons: tuple[tuple[Button, ...], ...]) -> list[list[dict[str, Any]]]:
    """Buttons as Telegram's inline keyboard JSON (stored in the outbox with the message)."""
    return [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]
