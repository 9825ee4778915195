"""Commands and button presses from any chat: the table's row says who may run it and how it parses;
its handler calls the operator service; the answer becomes a `Reply` with the message model and buttons.
Channels only turn their input into (command, words) and render the reply.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from bot import messages as docs
from bot.message_model import Doc
from eval.summary import WeeklySummary
from service.chat_ops import CommandRecord
from service.arguments import parse_id
from service.commands import COMMANDS_BY_NAME, Call, CommandSpec, Role, UsageError, parse_words
from service.operator import OperatorService
from service.results import ActionResult
from service.commands import Help
from service.proposal_card import ProposalCard
from service.results import ChartImage, ChartRefused, NoDigest, Proposals
from service.watchlist import WatchResult
from storage.errors import StoreError

log = logging.getLogger(__name__)
CONFIRM_PREFIX, CANCEL_PREFIX = "c", "x"  # "c:<token>", "x:<token>": the question itself stays in the store
STALE_BUTTON = "That button is not valid any more. /proposals shows what is waiting now."
_VERSION = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class Caller:
    channel: str  # "telegram" | "discord"
    user_id: int | None
    chat_id: int | None
    role: Role
    group: bool = False  # the command came from a group or channel, not a private chat

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
class Invocation:
    """A button press resolved to the command it stands for, to run next (a confirmed question's command)."""

    name: str
    words: tuple[str, ...]
    confirm: bool = False


@dataclass(frozen=True)
class Reply:
    doc: Doc
    outcome: str = "OK"  # for the command log: OK, REFUSED, BAD_INPUT, ERROR or the service's code
    buttons: tuple[tuple[Button, ...], ...] = ()
    settled: bool = False  # a proposal was answered for good: its buttons can go
    photo: bytes | None = None  # a picture to send after the text (the evaluation's reliability plot)
    photo_caption: str = ""
    captioned_photo: bytes | None = None  # a picture whose caption is `doc` itself (/chart): one message, not two


def proposal_buttons(card: ProposalCard) -> tuple[tuple[Button, ...], ...]:
    """[Approve 0.97 ETH] [Reject] / [½ suggested: 0.48] [2× suggested: 1.9]: each label says what it does,
    sizes are absolute quantities, and every press is bound to this version of the proposal."""
    p, v = card.proposal, card.proposal.version
    rows: list[tuple[Button, ...]] = [(Button(f"Approve {p.quantity:.6g} {p.symbol}", f"approve:{p.id}:{v}"),
                                       Button("Reject", f"reject:{p.id}:{v}"))]
    if card.suggested_quantity:
        half, double = card.suggested_quantity / 2, card.suggested_quantity * 2
        rows.append((Button(f"½ suggested: {half:.6g}", f"size:{p.id}:{half:.6g}:{v}"),
                     Button(f"2× suggested: {double:.6g}", f"size:{p.id}:{double:.6g}:{v}")))
    return tuple(rows)


def confirm_label(command: str, result: ActionResult) -> str:
    """What the Confirm button will do, in its own words: "Confirm 1.93578 ETH, 6,036 USD"."""
    p = result.proposal
    if p is not None and result.quantity is not None:
        verb = "size to" if command == "size" else f"{p.side.upper()}"
        return f"Confirm: {verb} {result.quantity:.6g} {p.symbol}, {result.quantity * p.reference_price:,.0f} USD"
    return f"Confirm {command}"


def allowed(caller: Caller, spec: CommandSpec | None) -> bool:
    """Strangers may do nothing (not even learn which commands exist); others what their role allows."""
    return caller.role is not Role.STRANGER and (spec is None or caller.role.may(spec.role))


class Actions:
    def __init__(self, service: OperatorService, on_record: Callable[[CommandRecord], None] | None = None,
                 account_in_groups: bool = False) -> None:
        self.service = service
        self._record = on_record or service.log_command
        self.account_in_groups = account_in_groups

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
        elif caller.group and spec.group_role is not None and not caller.role.may(spec.group_role):
            reply = Reply(docs.problem_doc(f"Only an operator can {spec.name} a group: all its members read what it "
                                           f"receives. Send {caller.prefix}{spec.name} to me in a private chat for your "
                                           "own."), "REFUSED")
        elif spec.account and caller.group and not self.account_in_groups:
            reply = Reply(docs.info_doc("Ask me in private", "Account figures stay out of groups: send "
                                        f"{caller.prefix}{name} to me in a private chat."), "PRIVATE")
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

    @staticmethod
    def takes_turn(caller: Caller, name: str) -> bool:
        """Whether the command changes what operators control (trading, proposals) for this caller: those
        take turns across chats, in arrival order. Reads, reader commands and refusals never wait for them."""
        spec = chat_spec(name)
        return spec is not None and not spec.reads_only and spec.role is Role.OPERATOR and allowed(caller, spec)

    def press_takes_turn(self, caller: Caller, data: str) -> bool:
        """A press takes turns like its command; a Confirm or Cancel may stand for any operator command."""
        name = data.split(":", 1)[0]
        return caller.role is Role.OPERATOR and (name in (CONFIRM_PREFIX, CANCEL_PREFIX) or self.takes_turn(caller, name))

    def press(self, caller: Caller, data: str) -> tuple[Reply, CommandRecord]:
        """A button press, all of it (`resolve_press`, then the command it stands for)."""
        step = self.resolve_press(caller, data)
        if isinstance(step, Invocation):
            reply, record = self.handle(caller, step.name, step.words, step.confirm)
            return (replace(reply, settled=True) if step.confirm else reply), record
        return step

    def resolve_press(self, caller: Caller, data: str) -> tuple[Reply, CommandRecord] | Invocation:
        """A button press: the same command, the same checks, as if it had been typed; a press made for an
        older version of the proposal, or an answered confirmation, changes nothing. Returns the answer, or
        the command to run now (`handle`): a chat adapter retries each step on its own while the store is
        busy, so a confirmation taken is never taken twice nor lost."""
        parts = data.split(":")
        if caller.role is Role.STRANGER:  # refused and logged like a typed command, whatever the button
            return self.handle(caller, parts[0][:32] or "button", [])
        if len(parts) == 2 and parts[0] in (CONFIRM_PREFIX, CANCEL_PREFIX):
            return self._answer(caller, parts[1], cancel=parts[0] == CANCEL_PREFIX)
        spec = chat_spec(parts[0])
        forged = Reply(docs.problem_doc(STALE_BUTTON), "BAD_INPUT")
        if spec is None or not spec.button or not all(parts[1:]):
            return self._logged(caller, parts[0][:32] or "button", parts[1:], forged)
        words, version = parts[1:], None
        if spec.arguments and spec.arguments[0].kind == "id":  # a proposal's button carries its version last
            if len(words) < 2 or not _VERSION.fullmatch(words[-1]):
                return self._logged(caller, spec.name, words, forged)
            words, version = words[:-1], words[-1]
            changed = self._changed_since(words[0], version)
            if changed is not None:
                return self._logged(caller, spec.name, words, changed)
        return Invocation(spec.name, tuple(words))

    def _answer(self, caller: Caller, token: str, cancel: bool) -> tuple[Reply, CommandRecord] | Invocation:
        """Confirm or Cancel on a question asked earlier: once, by the one asked, while nothing has changed."""
        answer = self.service.answer_confirmation(token, caller.user_id, cancel)
        if isinstance(answer, str):
            outcome = "OK" if cancel and answer.startswith("Cancelled") else "STALE"
            return self._logged(caller, "cancel" if cancel else "confirm", [token], Reply(docs.info_doc(answer), outcome,
                                                                                       settled=True))
        if answer.proposal_id is not None and answer.proposal_version is not None:
            changed = self._changed_since(str(answer.proposal_id), answer.proposal_version)
            if changed is not None:
                return self._logged(caller, answer.command, list(answer.arguments), changed)
        return Invocation(answer.command, tuple(answer.arguments), confirm=True)

    def _changed_since(self, proposal_word: str, version: str) -> Reply | None:
        try:
            current = self.service.proposal(parse_id(proposal_word))
        except ValueError:
            current = None
        if current is None:
            return Reply(docs.problem_doc(STALE_BUTTON), "BAD_INPUT")
        if current.version == version:
            return None
        return Reply(docs.problem_doc(
            f"Proposal #{current.id} changed since this message (it is now {current.status}, "
            f"{current.quantity:.6g} {current.symbol}): nothing was done. /proposals shows it as it stands."), "STALE",
            settled=True)

    @staticmethod
    def _logged(caller: Caller, name: str, words: Sequence[str], reply: Reply) -> tuple[Reply, CommandRecord]:
        return reply, CommandRecord(caller.channel, caller.user_id, caller.chat_id, name, " ".join(words) + " (button)",
                                    caller.role, True, reply.outcome)

    def _refuse(self, caller: Caller, name: str) -> Reply:
        log.warning("refused %s%s from %s user %s in chat %s (%s)", caller.prefix, name, caller.channel,
                    caller.user_id, caller.chat_id, caller.role.value)
        show_id = name in ("start", "help") and caller.channel == "telegram"  # how a new user learns their id
        return Reply(docs.refusal_doc(caller.user_id, show_id), "REFUSED")

    def _execute(self, caller: Caller, spec: CommandSpec, words: list[str], confirm: bool) -> Reply:
        try:
            args = parse_words(spec, words, caller.prefix)
            call = Call(caller.actor, caller.role, "chat", args, caller.chat_id, confirm)
            return self._reply(spec, call, caller, spec.handler(self.service, call))
        except UsageError as exc:
            return Reply(docs.problem_doc(str(exc)), "BAD_INPUT")
        except StoreError:  # busy or unusable: the chat adapter tries the command again, it is not lost
            raise
        except Exception:  # the chat gets a sentence, the log gets the traceback
            log.exception("%s from %s failed", spec.name, caller.actor)
            return Reply(docs.problem_doc("Something went wrong on our side; it is in the log. Nothing was changed "
                                          "unless /status says so."), "ERROR")

    def _reply(self, spec: CommandSpec, call: Call, caller: Caller, result: Any) -> Reply:
        """The answer in chat: the message model, and the buttons or picture that go with it."""
        if isinstance(result, ActionResult):
            return self._action_reply(spec, call, caller, result)
        if isinstance(result, Help):
            return Reply(docs.help_doc(result, caller.prefix))
        if isinstance(result, NoDigest):
            return Reply(docs.doc_for(result), "EMPTY")
        if isinstance(result, WeeklySummary):
            return Reply(docs.doc_for(result), photo=result.photo, photo_caption=result.photo_caption)
        if isinstance(result, Proposals):
            pending = [c for c in result.items if c.proposal.status == "proposed"]
            return Reply(docs.doc_for(result), buttons=proposal_buttons(pending[0]) if len(pending) == 1 else ())
        if isinstance(result, ChartImage):
            return Reply(docs.doc_for(result), captioned_photo=result.png)
        if isinstance(result, ChartRefused):
            return Reply(docs.doc_for(result), "UNKNOWN_SYMBOL" if result.unknown_symbol else "NO_CHART")
        if isinstance(result, WatchResult):
            return Reply(docs.doc_for(result), "OK" if result.ok else result.code)
        return Reply(docs.doc_for(result))

    def _action_reply(self, spec: CommandSpec, call: Call, caller: Caller, result: ActionResult) -> Reply:
        doc = docs.doc_for(result)
        if result.needs_confirmation and spec.confirmable:
            values = [str(call.args[a.name]) for a in spec.arguments if call.args.get(a.name) not in (None, False, ())]
            proposal = result.proposal
            token = self.service.ask_confirmation(caller.user_id, caller.chat_id, spec.name, values,
                                                  proposal.id if proposal is not None else None)
            return Reply(doc, "NEEDS_CONFIRMATION", ((Button(confirm_label(spec.name, result), f"{CONFIRM_PREFIX}:{token}"),
                                                     Button("Cancel", f"{CANCEL_PREFIX}:{token}")),))
        outcome = result.code if not result.ok else "OK"
        if spec.name == "size" and result.ok and result.proposal is not None and result.proposal.status == "proposed":
            card = self.service.proposal_card(result.proposal.id)
            if card is not None:  # resized: still to approve, with buttons for the new version
                return Reply(doc, outcome, proposal_buttons(card))
        settled = result.proposal is not None and result.proposal.status != "proposed"
        return Reply(doc, outcome, settled=settled)


def chat_spec(name: str) -> CommandSpec | None:
    """The table's row for a chat command; None for a name chat does not offer."""
    spec = COMMANDS_BY_NAME.get(name)
    return spec if spec is not None and "chat" in spec.channels else None


def describe_buttons(buttons: tuple[tuple[Button, ...], ...]) -> list[list[dict[str, Any]]]:
    """Buttons as Telegram's inline keyboard JSON (stored in the outbox with the message)."""
    return [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]
