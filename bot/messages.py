"""What every answer says, as a message model: the one place a proposal, a position or a digest is worded.

`doc_for(result)` turns whatever a command handler returned (service/commands.py) into a `Doc`;
Telegram, Discord and the terminal (`plain`) render that same Doc. Alerts, digests and the weekly
summary that are pushed rather than asked for use the same builders.
"""
from __future__ import annotations

from functools import singledispatch
from typing import Any, Sequence

from eval.summary import WeeklySummary
from bot.message_model import Doc, Line, Section, Span, Tone, bold, italic, line, section, text_lines, when
from intelligence.digest import DigestItem
from intelligence.types import Direction
from service.chat_ops import DigestSnapshot, SignalView, SubscriptionView
from service.operator import ActionResult, StateChange, StatusReport
from service.commands import Help, Intro
from service.results import NoDigest, Orders, Positions, Proposals, Signals, Unsubscribed
from trading.alerts import Alert
from trading.proposal_builder import OutcomeCode, ProposalOutcome
from trading.views import OrderView, PnlView, PositionView, ProposalView, ReconcileView

_DIRECTION = {Direction.BUY: "BUY", Direction.SELL: "SELL", Direction.HOLD: "hold"}
_ALERTS: dict[str, tuple[str, Tone]] = {
    "proposal": ("Trade proposal", "info"),
    "fill": ("Order filled", "good"),
    "halt": ("Trading halted", "bad"),
    "guard_breach": ("Guard breach", "warn"),
    "error": ("Error", "bad"),
    "reconciliation": ("Reconciliation", "warn"),
    "outage": ("Channel outage", "warn"),
}


@singledispatch
def doc_for(result: Any) -> Doc:
    """The message model of a command's answer."""
    raise TypeError(f"no message for {type(result).__name__}")


def _chance(probability: float | None) -> str:
    return f"{probability:.0%} chance right" if probability is not None else "no trade"


def _codes(codes: Sequence[str]) -> Span:
    return italic(f"[{', '.join(codes)}]")


def _money(value: float | None) -> str:
    return f"{value:,.2f}" if value is not None else "unknown"


# --- proposals: worded here and nowhere else ---

def proposal_lines(p: ProposalView) -> tuple[Line, ...]:
    head = line(bold(f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}"),
                f" (about {p.notional:,.0f} USD at {p.reference_price:,.6g}), {_chance(p.probability)}")
    if p.status == "proposed":
        return head, line(f"Waiting for an operator until {when(p.expires_at)}.")
    return head, line(f"Status {p.status}.")


def proposal_doc(p: ProposalView) -> Doc:
    return Doc(f"Trade proposal #{p.id}", (section(None, *proposal_lines(p)),))


def outcome_line(outcome: ProposalOutcome) -> Line:
    """Why a cycle proposed nothing (when it did, the proposal itself is shown)."""
    texts = {
        OutcomeCode.PAUSED: "Trading is paused: no trade proposed this cycle.",
        OutcomeCode.NO_SIGNAL: "No signal strong enough to propose a trade this cycle.",
        OutcomeCode.REDUCING: "Trading is reducing (exits only): no new trade proposed.",
        OutcomeCode.STILL_WAITING: f"Proposal #{outcome.id} ({(outcome.side or '').upper()} {outcome.symbol}) is still "
                                   "waiting for an operator: no new proposal this cycle.",
        OutcomeCode.TOO_WEAK: f"The {outcome.symbol} signal is too weak to size: no trade proposed.",
        OutcomeCode.PROPOSED: f"Proposal #{outcome.id} made this cycle.",
    }
    return line(texts[outcome.code])


@doc_for.register
def proposals_doc(proposals: Proposals) -> Doc:
    if not proposals.items:
        return Doc("No proposals are waiting.")
    return Doc("Proposals", tuple(section(None, *proposal_lines(p)) for p in proposals.items))


# --- the digest ---

def _digest_item(item: DigestItem) -> tuple[Line, Line]:
    head = line(bold(f"{item.rank}. {item.symbol} {_DIRECTION[item.direction]}"), f"  {_chance(item.probability)}  ",
                _codes(item.reason_codes))
    return head, line(item.evidence)


@doc_for.register
def digest_doc(snapshot: DigestSnapshot) -> Doc:
    digest = snapshot.digest
    about = [line(f"{digest.headline_count} headlines read; sentiment by the {digest.sentiment_backend} model.")]
    if digest.degraded:
        about.append(line(bold("DEGRADED: "), "; ".join(digest.problems)))
    items = [ln for item in digest.items for ln in _digest_item(item)]
    sections = [section(None, *about), section("Signals", *items) if items else section(None, line("No signals this cycle."))]
    if snapshot.proposal is not None:
        sections.append(section("Proposal", *proposal_lines(snapshot.proposal)))
    elif snapshot.outcome is not None:
        sections.append(section("Proposal", outcome_line(snapshot.outcome)))
    basis = f" ({digest.as_of_basis})" if digest.as_of_basis else ""
    return Doc(f"Tracer Bullet digest as of {when(digest.as_of)}{basis}", tuple(sections), "warn" if digest.degraded else "info")


@doc_for.register
def _no_digest(_: NoDigest) -> Doc:
    return Doc("No digest yet: no cycle has finished.")


# --- state and status ---

@doc_for.register
def status_doc(report: StatusReport) -> Doc:
    state = report.trading_state.value
    if report.halted_by_guard:
        state += f" (halted by the {report.halted_by_guard} guard)"
    elif report.paused:
        state += " (paused)"
    lines = [
        line("Trading state: ", bold(state)),
        line("Mode: ", bold(report.mode), "  LIVE TRADING WITH REAL MONEY" if report.mode == "live" else ""),
        line(f"Sentiment backend: {report.sentiment_backend}"),
        line(f"Last run: {when(report.last_run)}"
             + (f" ({report.last_run_status}, data as of {when(report.last_as_of)})" if report.last_run else "")),
    ]
    if report.problems:
        lines.append(line(bold("Problems in the last run: "), "; ".join(report.problems)))
    sections = [section(None, *lines)]
    pending = [ln for p in report.pending_proposals for ln in proposal_lines(p)]
    sections.append(section("Pending proposals", *pending) if pending else section(None, line("Pending proposals: none")))
    return Doc("Status", tuple(sections), "bad" if report.mode == "live" or report.degraded else "info")


@doc_for.register
def action_doc(result: ActionResult) -> Doc:
    title: str
    tone: Tone
    if result.needs_confirmation:
        title, tone = "Please confirm", "warn"
    else:
        title, tone = ("Done", "good") if result.ok else (f"Not done ({result.code})", "bad")
    sections = [section(None, *text_lines(result.message))]
    if result.proposal is not None:
        sections.append(section(None, *proposal_lines(result.proposal)))
    return Doc(title, tuple(sections), tone)


@doc_for.register
def state_change_doc(change: StateChange) -> Doc:
    if change.changed:
        return Doc(f"Trading state: {change.before.value} -> {change.after.value}", tone="warn")
    return Doc(f"Trading state was already {change.after.value}.")


# --- the account ---

def _position_line(p: PositionView) -> Line:
    price = f", now {p.market_price:,.6g}" if p.market_price is not None else ", no price"
    return line(bold(f"{p.symbol} {p.side} {p.quantity:.6g}"), f" at {p.avg_price:,.6g}{price}",
                f"; value {_money(p.market_value)}, unrealised {_money(p.unrealized_pnl)}",
                italic(f" (stale: last seen {when(p.seen_at)}, the broker cannot be reached)") if p.stale else "")


@doc_for.register
def positions_doc(positions: Positions) -> Doc:
    if not positions.items:
        return Doc("No open positions.")
    return Doc("Open positions", (section(None, *(_position_line(p) for p in positions.items)),))


@doc_for.register
def pnl_doc(pnl: PnlView) -> Doc:
    lines = [
        line("Equity ", bold(_money(pnl.equity)), f", cash {_money(pnl.cash)}"),
        line(f"Today {pnl.day_pnl:+,.2f} ({pnl.day_pnl_pct:+.2%}) from {_money(pnl.day_start_equity)}"),
        line(f"Realised {pnl.realized_pnl:+,.2f}, unrealised {pnl.unrealized_pnl:+,.2f}, fees {_money(pnl.fees)}"),
        line(f"Drawdown {pnl.drawdown_pct:.2%} below the peak of {_money(pnl.peak_equity)}; gross exposure {_money(pnl.gross_exposure)}"),
        line(f"Broker {pnl.broker}, market time {when(pnl.market_time)}"),
    ]
    if pnl.stale:
        lines.append(line(italic(f"The broker cannot be reached ({pnl.problem}): these are the last figures seen.")
                          if pnl.problem else italic("The broker cannot be reached: these are the last figures seen.")))
    return Doc("Profit and loss", (section(None, *lines),), "warn" if pnl.stale else "info")


def _order_line(o: OrderView) -> Line:
    price = o.limit_price or o.stop_price
    at = f" at {price:,.6g}" if price else ""
    filled = f", filled {o.filled_quantity:.6g} at {o.filled_avg_price:,.6g}" if o.filled_avg_price else ""
    return line(bold(f"#{o.id} {o.side.upper()} {o.quantity:.6g} {o.symbol}"),
                f" {o.order_type} {o.role}{at}, proposal #{o.proposal_id}: {o.status}{filled}",
                italic(f" ({o.error})") if o.error else "")


@doc_for.register
def orders_doc(orders: Orders) -> Doc:
    if not orders.items:
        return Doc("No orders yet.")
    return Doc("Orders", (section(None, *(_order_line(o) for o in orders.items)),))


@doc_for.register
def reconcile_doc(result: ReconcileView) -> Doc:
    lines = [line(f"Checked {result.checked_orders} open orders, updated {result.updated_orders}.")]
    lines += [line(d) for d in result.differences] or [line("The broker and the store agree.")]
    return Doc("Reconciliation", (section(None, *lines),), "info" if result.clean else "warn")


# --- signals, subscriptions, help ---

@doc_for.register
def signals_doc(signals: Signals) -> Doc:
    if not signals.items:
        return Doc("No BUY or SELL signals yet.")
    lines = []
    for s in signals.items:
        lines.append(line(bold(f"{s.symbol} {_DIRECTION[s.direction]}"),
                          f"  {_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)))
        lines.append(line(s.evidence))
    return Doc("Recent signals", (section(None, *lines),))


def strong_signal_doc(s: SignalView) -> Doc:
    return Doc(f"Strong signal: {s.symbol} {_DIRECTION[s.direction]}", (section(None,
        line(f"{_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)), line(s.evidence)),))


@doc_for.register
def subscription_doc(sub: SubscriptionView) -> Doc:
    alerts = "on" if sub.immediate_alerts else "off"
    return Doc("Subscribed", (section(None,
        line(f"The digest comes daily at {sub.digest_time} ({sub.timezone})."),
        line(f"Immediate alerts for strong signals: {alerts}."),
        line("/unsubscribe stops both.")),), "good")


@doc_for.register
def unsubscribed_doc(result: Unsubscribed) -> Doc:
    if result.was_subscribed:
        return Doc("Unsubscribed: no more digests or immediate alerts in this chat.")
    return Doc("This chat was not subscribed.")


def help_doc(commands: Help, prefix: str = "/") -> Doc:
    lines = [line(bold(c.usage(prefix)), f"  {c.summary}") for c in commands.commands]
    return Doc("Commands you may use", (section(None, *lines),))


doc_for.register(Help, help_doc)


@doc_for.register
def intro_doc(intro: Intro) -> Doc:
    return info_doc("Tracer Bullet", f"You are known here as {intro.role.value}.",
                    "Digests, signals and trade proposals come to this chat. /help lists your commands.")


# --- pushed messages and plain notices ---

def alert_doc(alert: Alert) -> Doc:
    title, tone = _ALERTS.get(alert.kind, (alert.kind.replace("_", " ").capitalize() or "Alert", "info"))
    return Doc(title, (Section(None, text_lines(alert.text)),), tone)


def refusal_doc(user_id: int | None, show_id: bool) -> Doc:
    if not show_id or user_id is None:
        return Doc("Sorry, you are not allowed to do that.", tone="bad")
    return Doc("Sorry, this bot is private.", (section(None, line(
        f"Your Telegram user id is {user_id}. An operator can add it to TB_TELEGRAM_OPERATORS "
        "or TB_TELEGRAM_SUBSCRIBERS.")),), "bad")


def problem_doc(message: str) -> Doc:
    """Bad input or a failure, in words: what went wrong and what to do."""
    return Doc("Could not do that", (section(None, *text_lines(message)),), "bad")


def weekly_doc(summary: WeeklySummary) -> Doc:
    """The evaluation summary (eval/weekly.py); its picture goes as a separate photo message."""
    sections = tuple(section(s.title, *(line(t) for t in s.lines)) for s in summary.sections)
    return Doc(summary.title, sections)


def info_doc(title: str, *lines: str) -> Doc:
    return Doc(title, (section(None, *(line(t) for t in lines)),) if lines else ())


doc_for.register(WeeklySummary, weekly_doc)
