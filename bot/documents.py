"""What the operator service returns, as channel-neutral documents (the same facts in every chat)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from service.chat_ops import CommandHelp, SignalView, SubscriptionView
from trading.alerts import Alert
from service.operator import ActionResult, ProposalView, StateChange, StatusReport
from bot.document import Doc, Line, Section, Span, bold, italic, line, section, text_lines
from bot.render_text import when
from intelligence.digest import Digest, DigestItem
from intelligence.types import Direction
from trading.views import OrderView, PnlView, PositionView

if TYPE_CHECKING:  # eval pulls in numpy and matplotlib; only the type is needed here
    from eval.weekly import WeeklySummary

_DIRECTION = {Direction.BUY: "BUY", Direction.SELL: "SELL", Direction.HOLD: "hold"}
_ALERTS = {
    "proposal": ("Trade proposal", "info"),
    "fill": ("Order filled", "good"),
    "halt": ("Trading halted", "bad"),
    "guard_breach": ("Guard breach", "warn"),
    "error": ("Error", "bad"),
    "reconciliation": ("Reconciliation", "warn"),
    "outage": ("Channel outage", "warn"),
}


def _chance(probability: float | None) -> str:
    return f"{probability:.0%} chance right" if probability is not None else "no trade"


def _codes(codes: Sequence[str]) -> Span:
    return italic(f"[{', '.join(codes)}]")


def _digest_item(item: DigestItem) -> tuple[Line, Line]:
    head = line(bold(f"{item.rank}. {item.symbol} {_DIRECTION[item.direction]}"), f"  {_chance(item.probability)}  ",
                _codes(item.reason_codes))
    return head, line(item.evidence)


def digest_doc(digest: Digest) -> Doc:
    about = [line(f"{digest.headline_count} headlines read; sentiment by the {digest.sentiment_backend} model.")]
    if digest.degraded:
        about.append(line(bold("DEGRADED: "), "; ".join(digest.problems)))
    items = [ln for item in digest.items for ln in _digest_item(item)]
    sections = [section(None, *about), section("Signals", *items) if items else section(None, line("No signals this cycle."))]
    if digest.proposal:
        sections.append(section("Proposal", line(digest.proposal)))
    basis = f" ({digest.as_of_basis})" if digest.as_of_basis else ""
    return Doc(f"Tracer Bullet digest as of {when(digest.as_of)}{basis}", tuple(sections), "warn" if digest.degraded else "info")


def alert_doc(alert: Alert) -> Doc:
    title, tone = _ALERTS.get(alert.kind, (alert.kind.replace("_", " ").capitalize() or "Alert", "info"))
    return Doc(title, (Section(None, text_lines(alert.text)),), tone)  # type: ignore[arg-type]


def proposal_lines(p: ProposalView) -> tuple[Line, ...]:
    return (
        line(bold(f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}"),
             f" (about {p.notional:,.0f} USD), {_chance(p.probability)}"),
        line(f"Status {p.status}; expires {when(p.expires_at)}."),
    )


def proposal_doc(p: ProposalView) -> Doc:
    return Doc(f"Trade proposal #{p.id}", (section(None, *proposal_lines(p)),))


def proposals_doc(proposals: Sequence[ProposalView]) -> Doc:
    if not proposals:
        return Doc("No proposals are waiting.")
    return Doc("Proposals waiting for an answer", tuple(section(None, *proposal_lines(p)) for p in proposals))


def status_doc(report: StatusReport) -> Doc:
    state = report.trading_state.value + (" (paused)" if report.paused else "")
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


def action_doc(result: ActionResult) -> Doc:
    if result.needs_confirmation:
        title, tone = "Please confirm", "warn"
    else:
        title, tone = ("Done", "good") if result.ok else (f"Not done ({result.code})", "bad")
    sections = [section(None, *text_lines(result.message))]
    if result.proposal is not None:
        sections.append(section(None, *proposal_lines(result.proposal)))
    return Doc(title, tuple(sections), tone)  # type: ignore[arg-type]


def state_change_doc(change: StateChange) -> Doc:
    if change.changed:
        return Doc(f"Trading state: {change.before.value} -> {change.after.value}", tone="warn")
    return Doc(f"Trading state was already {change.after.value}.")


def _money(value: float | None) -> str:
    return f"{value:,.2f}" if value is not None else "unknown"


def positions_doc(positions: Sequence[PositionView]) -> Doc:
    if not positions:
        return Doc("No open positions.")
    lines = []
    for p in positions:
        lines.append(line(bold(f"{p.symbol} {p.side} {p.quantity:.6g}"), f" at {p.avg_price:,.6g}",
                          f"; value {_money(p.market_value)}, unrealized {_money(p.unrealized_pnl)}",
                          italic(f" (stale: last seen {when(p.seen_at)})") if p.stale else ""))
    return Doc("Open positions", (section(None, *lines),))


def pnl_doc(pnl: PnlView) -> Doc:
    lines = [
        line("Equity ", bold(_money(pnl.equity)), f", cash {_money(pnl.cash)}"),
        line(f"Today {pnl.day_pnl:+,.2f} ({pnl.day_pnl_pct:+.2%}) from {_money(pnl.day_start_equity)}"),
        line(f"Realized {pnl.realized_pnl:+,.2f}, unrealized {pnl.unrealized_pnl:+,.2f}, fees {_money(pnl.fees)}"),
        line(f"Drawdown {pnl.drawdown_pct:.2%} below the peak of {_money(pnl.peak_equity)}; gross exposure {_money(pnl.gross_exposure)}"),
        line(f"Broker {pnl.broker}, market time {when(pnl.market_time)}"),
    ]
    if pnl.stale:
        lines.append(line(italic("The broker cannot be reached: these are the last figures seen.")))
    return Doc("Profit and loss", (section(None, *lines),), "warn" if pnl.stale else "info")


def orders_doc(orders: Sequence[OrderView]) -> Doc:
    if not orders:
        return Doc("No orders yet.")
    lines = []
    for o in orders:
        filled = f", filled {o.filled_quantity:.6g} at {o.filled_avg_price:,.6g}" if o.filled_avg_price else ""
        lines.append(line(bold(f"#{o.id} {o.side.upper()} {o.quantity:.6g} {o.symbol}"),
                          f" {o.order_type} {o.role}: {o.status}{filled}",
                          italic(f" ({o.error})") if o.error else ""))
    return Doc("Orders", (section(None, *lines),))


def signals_doc(signals: Sequence[SignalView]) -> Doc:
    if not signals:
        return Doc("No BUY or SELL signals yet.")
    lines = []
    for s in signals:
        lines.append(line(bold(f"{s.symbol} {_DIRECTION[s.direction]}"),
                          f"  {_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)))
        lines.append(line(s.evidence))
    return Doc("Recent signals", (section(None, *lines),))


def strong_signal_doc(s: SignalView) -> Doc:
    return Doc(f"Strong signal: {s.symbol} {_DIRECTION[s.direction]}", (section(None,
        line(f"{_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)), line(s.evidence)),))


def subscription_doc(sub: SubscriptionView) -> Doc:
    alerts = "on" if sub.immediate_alerts else "off"
    return Doc("Subscribed", (section(None,
        line(f"The digest comes daily at {sub.digest_time} ({sub.timezone})."),
        line(f"Immediate alerts for strong signals: {alerts}."),
        line("/unsubscribe stops both.")),), "good")


def unsubscribed_doc(was_subscribed: bool) -> Doc:
    if was_subscribed:
        return Doc("Unsubscribed: no more digests or immediate alerts in this chat.")
    return Doc("This chat was not subscribed.")


def help_doc(commands: Sequence[CommandHelp], prefix: str = "/") -> Doc:
    lines = [line(bold(f"{prefix}{c.name}" + (f" {c.arguments}" if c.arguments else "")), f"  {c.summary}") for c in commands]
    return Doc("Commands you may use", (section(None, *lines),))


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
