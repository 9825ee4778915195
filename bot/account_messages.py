"""The account as the operator reads it: trading state and status, positions, P&L, orders,
reconciliation, exits and the everyday trade reports."""
from __future__ import annotations


from bot.message_model import Doc, Line, Tone, bold, italic, line, section, text_lines, when
from service.results import ActionResult, FlattenResult, StateChange, StatusReport
from service.account import PositionLine
from service.results import (
    Orders, Performance, Positions, Trades,
)
from trading.state import TradingState
from trading.views import DailyView, OrderView, PnlView, ProfitView, ReconcileView, TradeView
from bot.message_words import _money, doc_for, proposal_lines


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
    if report.account is not None:
        a = report.account
        share = f" ({a.exposure_share:.0%} of equity)" if a.exposure_share is not None else ""
        held = ", ".join(a.positions) if a.positions else "none"
        lines.append(line(f"Equity {a.equity:,.2f} USD; open positions: {held}; exposure {a.gross_exposure:,.0f} USD"
                          f"{share} (as of {when(a.seen_at)})"))
    else:
        lines.append(line("Account: not looked at yet (/pnl asks the broker)."))
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


def _positions_after(change: StateChange) -> str:
    """What the state does to open positions, in one line."""
    brackets = (f"{change.protected} open bracket(s) stay live at the broker: stops and targets still close positions"
                if change.protected else "No bracket is open at the broker")
    if change.after is TradingState.HALTED:
        horizon = "; horizon exits wait for /resume" if change.horizon_exit else ""
        return f"{brackets}{horizon}; /close and /flatten still work."
    if change.after is TradingState.REDUCING:
        horizon = ", horizon exits" if change.horizon_exit else ""
        return f"No new positions. {brackets}; exits go on (brackets{horizon}, /close, /flatten)."
    return f"{brackets}."


@doc_for.register
def state_change_doc(change: StateChange) -> Doc:
    after = (section(None, line(_positions_after(change))),)
    if change.changed:
        return Doc(f"Trading state: {change.before.value} -> {change.after.value}", after, tone="warn")
    return Doc(f"Trading state was already {change.after.value}.", after)


# --- the account ---

def _position_lines(held: PositionLine) -> tuple[Line, ...]:
    p = held.position
    head = line(bold(f"{p.symbol} {p.side} {p.quantity:.6g}"), f" from {p.avg_price:,.6g}")
    if p.market_price is not None:
        move = (p.market_price / p.avg_price - 1) * (1 if p.side == "long" else -1) if p.avg_price else 0.0
        now = line(f"now {p.market_price:,.6g} ({move:+.1%}), value {_money(p.market_value)}, "
                   f"unrealised {p.unrealized_pnl:+,.2f} USD" if p.unrealized_pnl is not None else
                   f"now {p.market_price:,.6g}, value {_money(p.market_value)}")
    else:
        now = line("no current price")
    levels = []
    if held.stop_price is not None:
        levels.append(f"stop {held.stop_price:,.6g}")
    if held.target_price is not None:
        levels.append(f"target {held.target_price:,.6g}")
    guard = line(", ".join(levels) if levels else "no bracket working on it")
    stale = (line(italic(f"Stale: last seen {when(p.seen_at)}; the broker cannot be reached.")),) if p.stale else ()
    return (head, now, guard, *stale)


@doc_for.register
def positions_doc(positions: Positions) -> Doc:
    if not positions.items:
        return Doc("No open positions.")
    return Doc("Open positions", tuple(section(None, *_position_lines(held)) for held in positions.items))


@doc_for.register
def pnl_doc(pnl: PnlView) -> Doc:
    lines = [
        line("Equity ", bold(_money(pnl.equity)), f", cash {_money(pnl.cash)}"),
        line(f"Today {pnl.day_pnl:+,.2f} ({pnl.day_pnl_pct:+.2%}) from {_money(pnl.day_start_equity)}"),
        line(f"Realised {pnl.realized_pnl:+,.2f} after fees ({_money(pnl.fees)} paid), unrealised {pnl.unrealized_pnl:+,.2f}"),
        line(f"Drawdown {pnl.drawdown_pct:.2%} below the peak of {_money(pnl.peak_equity)}; gross exposure {_money(pnl.gross_exposure)}"),
        line(f"Broker {pnl.broker}, market time {when(pnl.market_time)}"),
    ]
    if pnl.stale:
        lines.append(line(italic(f"The broker cannot be reached ({pnl.problem}): these are the last figures seen.")
                          if pnl.problem else italic("The broker cannot be reached: these are the last figures seen.")))
    return Doc("Profit and loss", (section(None, *lines),), "warn" if pnl.stale else "info")


ORDER_ROLES = {"entry": "entry", "take_profit": "take-profit (bracket)", "stop_loss": "stop-loss (bracket)",
               "close": "close by an operator", "flatten": "close (flatten)", "horizon_exit": "close at the signal's horizon"}
ORDER_STATES = {"pending_submit": "being sent", "new": "open", "partially_filled": "partly filled", "held": "held",
                "filled": "filled", "canceled": "cancelled", "expired": "expired", "rejected": "rejected",
                "failed": "failed"}


def _order_line(o: OrderView) -> tuple[Line, ...]:
    price = o.limit_price if o.order_type == "limit" else o.stop_price if o.order_type == "stop" else None
    at = f" at {price:,.6g}" if price else ""
    role = ORDER_ROLES.get(o.role, o.role.replace("_", " "))
    head = line(bold(f"{o.side.upper()} {o.quantity:.6g} {o.symbol}"), f" {o.order_type}{at}, {role}")
    state = ORDER_STATES.get(o.status, o.status)
    filled = f" {o.filled_quantity:.6g} at {o.filled_avg_price:,.6g}" if o.filled_avg_price else ""
    whose = f"for proposal #{o.proposal_id}" if o.proposal_id is not None else "not from a proposal"
    detail = line(f"Order {o.id} {whose}: {state}{filled}; placed {when(o.created_at)}",
                  f", last change {when(o.updated_at)}" if o.updated_at != o.created_at else "",
                  italic(f" ({o.error})") if o.error else "")
    return head, detail


@doc_for.register
def orders_doc(orders: Orders) -> Doc:
    if not orders.items:
        return Doc("No orders yet.")
    return Doc("Orders, newest first", tuple(section(None, *_order_line(o)) for o in orders.items))


@doc_for.register
def reconcile_doc(result: ReconcileView) -> Doc:
    lines = [line(f"Checked {result.checked_orders} open orders, updated {result.updated_orders}.")]
    lines += [line(d) for d in result.differences] or [line("The broker and the store agree.")]
    return Doc("Reconciliation", (section(None, *lines),), "info" if result.clean else "warn")


@doc_for.register
def flatten_doc(result: FlattenResult) -> Doc:
    doc = action_doc(result)
    closes = [line(bold(f"{c.symbol} {c.side} {c.quantity:.6g}"),
                   f": {c.status or 'to close'}" + (f" at {c.fill_price:,.6g}" if c.fill_price is not None else "")
                   + (f", realised {c.realized_pnl:+,.2f} after fees" if c.realized_pnl is not None else ""))
              for c in result.closes]
    return Doc(doc.title, doc.sections + ((section(None, *closes),) if closes else ()), doc.tone)

_EXITS = {"take_profit": "take-profit", "stop_loss": "stop-loss", "close": "closed by an operator",
          "flatten": "flattened", "horizon_exit": "horizon exit", "entry": "an opposite proposal", "open": "open"}


def _pnl(value: float) -> str:
    return f"{value:+,.2f}"


def _duration(hours: float) -> str:
    return f"{hours * 60:.0f} minutes" if hours < 1 else f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def _trade_line(t: TradeView) -> Line:
    head = bold(f"{t.number}. {t.symbol} {t.side} {t.quantity:.6g}")
    opened = f" in {when(t.opened_at)} at {t.entry_price:,.6g}"
    if t.closed_at is None:
        held = f", still open ({abs(t.open_quantity):.6g})" if abs(t.open_quantity) != t.quantity else ", still open"
        return line(head, opened, held, f"; realised {_pnl(t.realized_pnl)} after fees so far")
    out = f", out {when(t.closed_at)} at {t.exit_price:,.6g} ({_EXITS.get(t.exit, t.exit)})" if t.exit_price else ""
    return line(head, opened, out, "; ", bold(_pnl(t.realized_pnl)), f" after fees ({t.return_pct:+.2%})")


@doc_for.register
def trades_doc(trades: Trades) -> Doc:
    if not trades.items:
        return Doc("No trades yet.")
    total = sum(t.realized_pnl for t in trades.items)
    return Doc("Trades, newest first", (section(None, *(_trade_line(t) for t in trades.items)),
                                        section(None, line(f"Realised P&L of these: {_pnl(total)} after fees."))))


@doc_for.register
def profit_doc(p: ProfitView) -> Doc:
    if not p.trades:
        return Doc("No trades yet.", (section(None, line(f"Broker {p.broker}.")),))
    rate = f"{p.win_rate:.0%} won ({p.winners} of {p.closed})" if p.win_rate is not None else "none closed yet"
    lines = [
        line("Realised P&L ", bold(_pnl(p.realized_pnl)), f" after {_money(p.fees)} in fees (as /pnl)"),
        line(f"Closed trades: {p.closed} of {p.trades}, {rate}; their P&L {_pnl(p.closed_pnl)}"),
    ]
    if p.best is not None and p.worst is not None:
        lines.append(line(f"Best: {p.best.symbol} {_pnl(p.best.realized_pnl)} ({p.best.return_pct:+.2%}); "
                          f"worst: {p.worst.symbol} {_pnl(p.worst.realized_pnl)} ({p.worst.return_pct:+.2%})"))
    if p.avg_hours is not None:
        lines.append(line(f"A closed trade was open {_duration(p.avg_hours)} on average"))
    lines.append(line(f"First trade {when(p.first_opened)}, latest {when(p.last_opened)}; broker {p.broker}"))
    return Doc("Profit", (section(None, *lines),), "good" if p.realized_pnl > 0 else "info")


@doc_for.register
def performance_doc(performance: Performance) -> Doc:
    if not performance.items:
        return Doc("No trades yet.")
    lines = [line(bold(f"{n}. {r.symbol} {_pnl(r.realized_pnl)}"),
                  f" after fees, {r.trades} trade(s)" + (f", {r.winners} of {r.closed} closed won" if r.closed else ", none closed")
                  + (f", {r.return_pct:+.2%} summed" if r.closed else ""))
             for n, r in enumerate(performance.items, start=1)]
    return Doc("Performance per asset", (section(None, *lines),))


@doc_for.register
def daily_doc(d: DailyView) -> Doc:
    lines = [line(bold(day.day), f"  {_pnl(day.realized_pnl)}",
                  f", {day.trades_closed} trade(s) closed" if day.trades_closed else "",
                  f", {day.fills} fill(s)" if day.fills else ", no fills",
                  f", equity {_money(day.equity_end)}" if day.equity_end is not None else "")
             for day in d.days]
    lines.append(line(f"Realised over these {len(d.days)} days: {_pnl(d.realized_pnl)} after fees "
                      f"(UTC days of the {d.broker} market clock)."))
    return Doc(f"Daily P&L to {d.market_today}", (section(None, *lines),))
