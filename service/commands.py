"""The one table of operator commands: what each is called, takes, says, needs and does.

Chat dispatch and its concurrency, `/help`, Telegram's command menu, which buttons are valid and
the shell's argparse subcommands are all derived from `COMMANDS`. A handler only calls the
operator service and returns data (`service/results.py`); channels render it (`bot/messages.py`).
To follow one command: its row here (arguments, role, handler), `bot/actions.py` (chat: parse,
authorise, run), `cli/operator.py` (shell), `bot/messages.py` (what it looks like).

Standard library only at import: every command-line call, `--help` included, imports this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

from service.arguments import PARSERS, MAX_DAYS, subscription_request
from service.roles import Role as Role, UsageError as UsageError  # re-exported: callers of the table name them here

if TYPE_CHECKING:
    from service.operator import OperatorService


Channel = Literal["chat", "shell"]
# id: a proposal id in ASCII digits; word: one token; words: the rest; flag: a word that is its own
# name ("all"); count: a small positive whole number; symbol: an asset's ticker (ETH, SPY); days: a
# number of days, fractions allowed (1.5), up to MAX_DAYS.
ArgKind = Literal["id", "word", "words", "flag", "count", "symbol", "days"]
DEFAULT_CHART_DAYS = 7.0



@dataclass(frozen=True)
class Arg:
    name: str
    kind: ArgKind
    help: str
    required: bool = True
    default: Any = None
    example: str = ""


@dataclass(frozen=True)
class Call:
    """One invocation: who, where, with which parsed arguments."""

    actor: str  # "shell", "telegram:<user id>", ...
    role: Role
    channel: Channel
    args: Mapping[str, Any] = field(default_factory=dict)
    chat_id: int | None = None
    confirm: bool = False


Handler = Callable[["OperatorService", Call], Any]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    role: Role  # the least role that may use it
    handler: Handler
    arguments: tuple[Arg, ...] = ()
    channels: frozenset[Channel] = frozenset({"chat", "shell"})
    reads_only: bool = False  # changes nothing: may run beside others, in any order
    slow: bool = False  # may block on the network or heavy work: run off the event loop
    button: bool = False  # may arrive as a button press ("name:arg:...")
    confirmable: bool = False  # a risky case answers "please confirm"; the same call with confirm=True goes ahead
    account: bool = False  # shows the account's figures: answered in groups only with TB_ACCOUNT_IN_GROUPS
    group_role: Role | None = None  # the least role that may use it in a group, where it affects every member

    def usage(self, prefix: str = "/") -> str:
        parts = []
        for a in self.arguments:
            shown = a.name if a.kind == "flag" else a.name.upper()
            parts.append(shown if a.required else f"[{shown}]")
        return f"{prefix}{self.name}" + "".join(f" {p}" for p in parts)

    def example(self, prefix: str = "/") -> str:
        return f"{prefix}{self.name}" + "".join(f" {a.example}" for a in self.arguments if a.example)


def parse_words(spec: CommandSpec, words: Sequence[str], prefix: str = "/") -> dict[str, Any]:
    """Chat words into the spec's arguments; UsageError with the usage and an example when they do not fit."""
    usage = f"Usage: {spec.usage(prefix)}" + (f", e.g. {spec.example(prefix)}" if spec.example(prefix) != f"{prefix}{spec.name}" else "")
    args: dict[str, Any] = {a.name: a.default for a in spec.arguments}
    rest = list(words)
    for arg in spec.arguments:
        if arg.kind == "words":
            args[arg.name] = tuple(rest)
            rest = []
            continue
        if arg.kind == "flag":
            if rest and rest[0].lower() == arg.name:
                args[arg.name] = True
                rest.pop(0)
            else:
                args[arg.name] = False
            continue
        if not rest:
            if arg.required:
                raise UsageError(usage)
            continue
        token = rest.pop(0)
        try:
            args[arg.name] = PARSERS[arg.kind](token) if arg.kind in PARSERS else token
        except ValueError as exc:
            raise UsageError(f"{exc}. {usage}") from None
    if rest:
        raise UsageError(usage)
    return args


@dataclass(frozen=True)
class Help:
    """The commands a caller may use, for /help."""

    commands: tuple[CommandSpec, ...]


@dataclass(frozen=True)
class Intro:
    """/start: who the caller is known as."""

    role: Role


def for_channel(channel: Channel, role: Role = Role.OPERATOR) -> list[CommandSpec]:
    """The commands `role` may use on `channel`, in the table's order."""
    return [c for c in COMMANDS if channel in c.channels and role.may(c.role)]


# --- the handlers: call the service, return data ---

def _intro(s: OperatorService, c: Call) -> Any:
    return Intro(c.role)


def _help(s: OperatorService, c: Call) -> Any:
    return Help(tuple(for_channel(c.channel, c.role)))


def _status(s: OperatorService, c: Call) -> Any:
    return s.status()


def _digest(s: OperatorService, c: Call) -> Any:
    from service.results import FullDigest, NoDigest

    snapshot = s.digest_now()
    if snapshot is None:
        return NoDigest()
    return FullDigest(snapshot) if c.args.get("full") else snapshot


def _signals(s: OperatorService, c: Call) -> Any:
    from service.results import Signals

    return Signals(tuple(s.recent_signals()))


def _eval(s: OperatorService, c: Call) -> Any:
    return s.evaluation_summary()


def _universe(s: OperatorService, c: Call) -> Any:
    return s.watchlist()


def _watch(s: OperatorService, c: Call) -> Any:
    return s.watch(c.args["symbol"], c.actor)


def _unwatch(s: OperatorService, c: Call) -> Any:
    return s.unwatch(c.args["symbol"], c.actor)


def _markets(s: OperatorService, c: Call) -> Any:
    return s.markets()


def _chart(s: OperatorService, c: Call) -> Any:
    return s.chart(c.args["symbol"], c.args.get("days") or DEFAULT_CHART_DAYS)


def _subscribe(s: OperatorService, c: Call) -> Any:
    if c.chat_id is None:
        raise UsageError("/subscribe works in a chat: it subscribes the chat it is sent in")
    wanted = subscription_request(c.args["options"])
    return s.subscribe(c.chat_id, c.actor, wanted.time, wanted.zone, wanted.alerts, wanted.silent)


def _unsubscribe(s: OperatorService, c: Call) -> Any:
    from service.results import Unsubscribed

    if c.chat_id is None:
        raise UsageError("/unsubscribe works in a chat: it unsubscribes the chat it is sent in")
    return Unsubscribed(s.unsubscribe(c.chat_id, c.actor))


def _proposals(s: OperatorService, c: Call) -> Any:
    from service.results import Proposals

    return Proposals(tuple(s.proposal_cards(include_closed=bool(c.args.get("all")))))


def _approve(s: OperatorService, c: Call) -> Any:
    return s.approve(c.args["id"], c.actor, confirm=c.confirm)


def _reject(s: OperatorService, c: Call) -> Any:
    return s.reject(c.args["id"], c.actor)


def _size(s: OperatorService, c: Call) -> Any:
    return s.size(c.args["id"], c.args["x"], c.actor, confirm=c.confirm)


def _positions(s: OperatorService, c: Call) -> Any:
    from service.results import Positions

    return Positions(tuple(s.position_lines()))


def _pnl(s: OperatorService, c: Call) -> Any:
    return s.pnl()


def _orders(s: OperatorService, c: Call) -> Any:
    from service.results import Orders

    return Orders(tuple(s.orders(c.args.get("limit") or 50)))


def _pause(s: OperatorService, c: Call) -> Any:
    return s.pause(c.actor)


def _reduce(s: OperatorService, c: Call) -> Any:
    return s.reduce(c.actor)


def _resume(s: OperatorService, c: Call) -> Any:
    return s.resume(c.actor, confirm=c.confirm)  # after a halt by a guard, it asks for a confirmation first


def _reconcile(s: OperatorService, c: Call) -> Any:
    return s.reconcile()


def _close(s: OperatorService, c: Call) -> Any:
    return s.close(c.args["symbol"], c.actor, confirm=c.confirm)


def _keep(s: OperatorService, c: Call) -> Any:
    return s.keep(c.args["symbol"], c.actor, keep=not c.args.get("off"))


def _flatten(s: OperatorService, c: Call) -> Any:
    return s.flatten(c.actor, confirm=c.confirm)


def _daily(s: OperatorService, c: Call) -> Any:
    return s.daily(c.args.get("days") or 7)


def _profit(s: OperatorService, c: Call) -> Any:
    return s.profit()


def _performance(s: OperatorService, c: Call) -> Any:
    from service.results import Performance

    return Performance(tuple(s.performance()))


def _trades(s: OperatorService, c: Call) -> Any:
    from service.results import Trades

    return Trades(tuple(s.trades(c.args.get("limit") or 10)))


_R = Role
_CHAT: frozenset[Channel] = frozenset({"chat"})
_SHELL: frozenset[Channel] = frozenset({"shell"})
_ID = Arg("id", "id", "proposal id", example="12")
_SYMBOL = Arg("symbol", "symbol", "the asset, e.g. ETH", example="ETH")
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "introduce the bot and show your user id", _R.STRANGER, _intro, channels=_CHAT, reads_only=True),
    CommandSpec("help", "the commands you may use", _R.STRANGER, _help, channels=_CHAT, reads_only=True),
    CommandSpec("status", "trading state, mode, last run, pending proposals", _R.READER, _status, reads_only=True),
    CommandSpec("digest", "the latest digest; `full` for every asset with its evidence", _R.READER, _digest,
                (Arg("full", "flag", "every asset with its evidence line", required=False, default=False),),
                reads_only=True),
    CommandSpec("signals", "recent BUY/SELL signals", _R.READER, _signals, reads_only=True),
    # Not reads_only: when the last summary is older than TB_CHAT_EVAL_FRESH_MINUTES it resolves outcomes and
    # writes the evaluation's files (once for everyone asking meanwhile). A reader's command: it never waits
    # for, nor holds up, the operators' commands.
    CommandSpec("eval", "the latest evaluation summary", _R.READER, _eval, channels=_CHAT, slow=True),
    CommandSpec("universe", "the watchlist: the assets each cycle reads and calls", _R.READER, _universe, reads_only=True),
    CommandSpec("markets", "the prediction markets (Polymarket, read only) beside the latest cycle's calls", _R.READER,
                _markets, reads_only=True),
    # Chat only: the shell has `chart SYMBOL --out FILE` (cli/chart.py), which writes the same picture to a file.
    CommandSpec("chart", "a picture of one asset: price, news score beneath it, the calls and the headlines that "
                "moved the story", _R.READER, _chart,
                (_SYMBOL, Arg("days", "days", f"how many days up to the latest call (default 7, at most {MAX_DAYS})",
                              required=False, default=DEFAULT_CHART_DAYS, example="14")),
                channels=_CHAT, reads_only=True, slow=True),
    CommandSpec("subscribe", "daily digest for this chat, plus immediate alerts for strong signals", _R.SUBSCRIBER,
                _subscribe, (Arg("options", "words", "[HH:MM] [Area/City] [alerts|noalerts]", required=False,
                                 example="07:30 Europe/Berlin"),), channels=_CHAT, group_role=_R.OPERATOR),
    CommandSpec("unsubscribe", "stop the digest and the immediate alerts for this chat", _R.SUBSCRIBER, _unsubscribe,
                channels=_CHAT, group_role=_R.OPERATOR),
    # With Alpaca keys a US symbol the catalogue lacks is looked up at the broker: slow.
    CommandSpec("watch", "add an asset to the watchlist from the next cycle on", _R.OPERATOR, _watch,
                (Arg("symbol", "symbol", "the asset, e.g. NVDA", example="NVDA"),), slow=True),
    CommandSpec("unwatch", "take an asset off the watchlist from the next cycle on", _R.OPERATOR, _unwatch,
                (Arg("symbol", "symbol", "the asset, e.g. NVDA", example="NVDA"),)),
    CommandSpec("proposals", "trade proposals waiting for an answer", _R.OPERATOR, _proposals,
                (Arg("all", "flag", "include answered and expired proposals", required=False, default=False),),
                reads_only=True),
    CommandSpec("approve", "approve a proposal and submit its order (once)", _R.OPERATOR, _approve, (_ID,),
                slow=True, button=True, confirmable=True),
    CommandSpec("reject", "reject a proposal", _R.OPERATOR, _reject, (_ID,), button=True),
    CommandSpec("size", "resize a proposal: X = quantity (0.25), % of equity (5%) or multiplier (0.5x)", _R.OPERATOR,
                _size, (_ID, Arg("x", "word", "0.25 (quantity), 5% (of equity) or 0.5x (of the suggestion)", example="0.5x")),
                slow=True, button=True, confirmable=True),
    CommandSpec("positions", "open positions with their stop, target and unrealised P&L", _R.OPERATOR, _positions,
                slow=True, account=True),
    CommandSpec("pnl", "equity, today's P&L, realised and unrealised, drawdown", _R.OPERATOR, _pnl, slow=True,
                account=True),
    CommandSpec("orders", "recent orders, newest first (entries and bracket legs)", _R.OPERATOR, _orders,
                (Arg("limit", "count", "how many (default 50)", required=False, default=50),), slow=True, account=True),
    CommandSpec("pause", "halt trading: no proposals, no orders", _R.OPERATOR, _pause),
    CommandSpec("reduce", "exits only: no new positions", _R.OPERATOR, _reduce),
    CommandSpec("resume", "resume trading (after a guard halt only once confirmed)", _R.OPERATOR, _resume,
                slow=True, button=True, confirmable=True),
    CommandSpec("reconcile", "compare the broker's orders and positions with the store; exit 1 on differences",
                _R.OPERATOR, _reconcile, channels=_SHELL, slow=True),
    # Exits (trading/exits.py): they change the account, so none is reads_only; each asks the broker.
    CommandSpec("close", "close an open position at market, cancelling its bracket (asks to confirm)", _R.OPERATOR,
                _close, (_SYMBOL,), slow=True, button=True, confirmable=True),
    CommandSpec("keep", "keep a position past its signal's horizon (off: close it there again)", _R.OPERATOR, _keep,
                (_SYMBOL, Arg("off", "flag", "close it at its horizon again", required=False, default=False)),
                slow=True, button=True),
    CommandSpec("flatten", "close every open position at market (asks to confirm)", _R.OPERATOR, _flatten,
                slow=True, button=True, confirmable=True),
    # The everyday reports (trading/trade_reports.py): realised P&L after fees, as /pnl has it. They sync
    # open orders with the broker first, so they are not reads_only.
    CommandSpec("daily", "realised P&L per market day", _R.OPERATOR, _daily,
                (Arg("days", "count", "how many days (default 7)", required=False, default=7),), slow=True, account=True),
    CommandSpec("profit", "closed trades, win rate, realised P&L, best and worst trade", _R.OPERATOR, _profit, slow=True,
                account=True),
    CommandSpec("performance", "realised P&L per asset", _R.OPERATOR, _performance,
                slow=True, account=True),
    CommandSpec("trades", "trade history: entries and exits with times, prices and P&L, newest first", _R.OPERATOR,
                _trades, (Arg("limit", "count", "how many (default 10)", required=False, default=10),), slow=True,
                account=True),
)
COMMANDS_BY_NAME: dict[str, CommandSpec] = {c.name: c for c in COMMANDS}
