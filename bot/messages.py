"""What every answer says, as a message model: the one place a proposal, a position or a digest is worded.

`doc_for(result)` turns whatever a command handler returned (service/commands.py) into a `Doc`;
Telegram, Discord and the terminal (`plain`) render that same Doc. Alerts, digests and the weekly
summary that are pushed rather than asked for use the same builders.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any, Sequence

from eval.summary import WeeklySummary
from bot.message_model import Doc, Line, Section, Span, Tone, bold, italic, line, section, text_lines, when
from intelligence.digest import DigestItem, Story
from intelligence.types import Direction
from service.chat_ops import DigestSnapshot, SignalView, SubscriptionView
from service.operator import ActionResult, FlattenResult, StateChange, StatusReport
from service.account import PositionLine
from service.proposal_card import ProposalCard
from service.commands import Help, Intro
from service.results import (
    ChartImage, ChartRefused, FullDigest, Markets, NoDigest, Orders, Performance, Positions, Proposals, Signals,
    Trades, Unsubscribed,
)
from service.watchlist import WatchlistView, WatchResult
from intelligence.prediction_markets import MarketLine, PredictionMarketsSection
from trading.alerts import Alert
from trading.proposal_builder import OutcomeCode, ProposalOutcome
from trading.state import TradingState
from trading.views import DailyView, OrderView, PnlView, ProfitView, ProposalView, ReconcileView, TradeView

_DIRECTION = {Direction.BUY: "BUY", Direction.SELL: "SELL", Direction.HOLD: "hold"}
_ALERTS: dict[str, tuple[str, Tone]] = {
    "proposal": ("Trade proposal", "info"),
    "fill": ("Order filled", "good"),
    "halt": ("Trading halted", "bad"),
    "guard_breach": ("Guard breach", "warn"),
    "error": ("Error", "bad"),
    "reconciliation": ("Reconciliation", "warn"),
    "outage": ("Channel outage", "warn"),
    "exit": ("Position closed", "info"),
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

def _pct(fraction: float) -> str:
    return f"{fraction:+.1%}"


def age(span: timedelta | None) -> str:
    """A duration as a trader says it: 35 min, 6 h, 3 days."""
    if span is None:
        return "time unknown"
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 90:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def proposal_lines(p: ProposalView) -> tuple[Line, ...]:
    """A proposal in two lines (status, answers): what it is and where it stands."""
    head = line(bold(f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}"),
                f" (about {p.notional:,.0f} USD at {p.reference_price:,.6g}), {_chance(p.probability)}")
    if p.status == "proposed":
        return head, line(f"Waiting for an operator until {when(p.expires_at)}.")
    return head, line(f"Status {p.status}.")


def _track(card: ProposalCard) -> str:
    track = card.track
    if track.count == 0:
        return f"comparable calls ({track.tier}): no track record yet"
    return f"comparable calls ({track.tier}): {track.hits} of {track.count} right ({track.hits / track.count:.0%})"


def _exposure(card: ProposalCard) -> str:
    held, symbol = card.exposure, card.proposal.symbol
    parts = []
    if held.position:
        side = "long" if held.position > 0 else "short"
        at = f" at {held.avg_price:,.6g}" if held.avg_price is not None else ""
        parts.append(f"{side} {abs(held.position):.6g}{at}")
    if held.open_orders:
        parts.append(f"{held.open_orders} other order(s) in flight")
    return f"Already open in {symbol}: " + "; ".join(parts) + "." if parts else f"Nothing else open in {symbol}."


def card_lines(card: ProposalCard) -> tuple[Line, ...]:
    """Everything a trader needs to decide, in the order they read it."""
    p = card.proposal
    lines = [line(bold(f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}"),
                  f" ({card.name}), about {p.notional:,.0f} USD")]
    quoted = f", the price at {when(card.quote_time)}" if card.quote_time else ""
    lines.append(line(f"Entry near {p.reference_price:,.6g}{quoted}."))
    if card.stop_price is not None and card.target_price is not None and card.stop_distance is not None:
        sign = 1 if p.side == "buy" else -1
        assert card.target_distance is not None
        lines.append(line(f"Stop {card.stop_price:,.6g} ({_pct(-sign * card.stop_distance)}), "
                          f"target {card.target_price:,.6g} ({_pct(sign * card.target_distance)})."))
    if card.risk is not None:
        share = f", {card.risk_share:.2%} of equity" if card.risk_share is not None else ""
        lines.append(line(f"At risk at the stop: about {card.risk:,.0f} USD{share}."))
    hours = card.horizon.total_seconds() / 3600
    lines.append(line(f"{_chance(p.probability)} over {hours:g} h; {_track(card)}."))
    if card.horizon_exit:
        lines.append(line(f"It ends at the stop, the target or after {hours:g} h, when the call is judged "
                          f"(/keep {p.symbol} holds it longer)."))
    else:
        lines.append(line(f"It ends at the stop or the target; the call is judged after {hours:g} h."))
    for story in card.headlines:
        lines.append(_story_line(story, card.signal_as_of))
    lines.append(line(_exposure(card)))
    if card.suggested_quantity is not None and abs(card.suggested_quantity - p.quantity) > 1e-12:
        lines.append(line(f"Resized from the suggested {card.suggested_quantity:.6g} {p.symbol}."))
    lines.append(line(f"Waiting for an operator until {when(p.expires_at)}." if p.status == "proposed"
                      else f"Status {p.status}."))
    return tuple(lines)


def compact_card_lines(card: ProposalCard) -> tuple[Line, ...]:
    """The proposal in a digest: size, levels and risk; the full card is one command away."""
    p = card.proposal
    lines = [line(bold(f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}"),
                  f", about {p.notional:,.0f} USD near {p.reference_price:,.6g}")]
    if card.stop_price is not None and card.target_price is not None and card.risk is not None:
        share = f" ({card.risk_share:.2%})" if card.risk_share is not None else ""
        lines.append(line(f"stop {card.stop_price:,.6g}, target {card.target_price:,.6g}, at risk {card.risk:,.0f} USD{share}"))
    lines.append(line(f"Until {when(p.expires_at)}; /proposals shows the full card." if p.status == "proposed"
                      else f"Status {p.status}."))
    return tuple(lines)


def proposal_doc(card: ProposalCard) -> Doc:
    return Doc(f"Trade proposal #{card.proposal.id}", (section(None, *card_lines(card)),))


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
        OutcomeCode.IN_FLIGHT: f"An order for {(outcome.side or '').upper()} {outcome.symbol} is already on its way"
                               + (f" (proposal #{outcome.id})" if outcome.id else "") + ": no new proposal this cycle.",
        OutcomeCode.HOLDING: f"A {'long' if outcome.side == 'buy' else 'short'} {outcome.symbol} position is already "
                             "open: no new proposal for it.",
        OutcomeCode.ALREADY_PROPOSED: f"This {(outcome.side or '').upper()} {outcome.symbol} signal was already "
                                      f"proposed (#{outcome.id}) and is not offered again.",
    }
    return line(texts[outcome.code])


@doc_for.register
def proposals_doc(proposals: Proposals) -> Doc:
    if not proposals.items:
        return Doc("No proposals are waiting.")
    return Doc("Proposals", tuple(section(None, *card_lines(card)) for card in proposals.items))


# --- the digest ---

# Reason codes (intelligence/signal.py lists them) as a trader reads them.
REASON_WORDS = {
    "DIVERGENCE_BULLISH": "the story is ahead of the tape, bullish",
    "DIVERGENCE_BEARISH": "the story is ahead of the tape, bearish",
    "CONFIRMED_BULLISH": "story and tape agree, bullish",
    "CONFIRMED_BEARISH": "story and tape agree, bearish",
    "PRICE_AHEAD_OF_STORY": "the price has already run past the story",
    "NEGATIVE_CONFIRMATION": "the tape firmly disagrees with the story",
    "NO_EDGE": "no clear gap between story and tape",
    "NO_NEWS": "no news",
    "WEAK_NARRATIVE": "no clear story",
    "DIVERGENT_SHORT": "the story leads in recent hours",
    "DIVERGENT_MID": "the story leads over the day",
    "DIVERGENT_LONG": "the story leads over the past few days",
    "ADAPTIVE_TRIGGER": "the trigger adapted to recent gaps",
    "HYPE_CASCADE_BULLISH": "a burst of upbeat stories, damped as hype",
    "HYPE_CASCADE_BEARISH": "a burst of gloomy stories, damped as hype",
    "VOLUME_HEAVY": "on heavy volume",
    "VOLUME_LIGHT": "on light volume",
    "TAPE_ALIGNED": "the tape moves the same way on every timescale",
    "SINGLE_SOURCE": "one outlet only",
    "SOURCES_SPLIT": "outlets disagree",
    "DUPLICATES_FOLDED": "repeated stories folded",
    "ECHOED": "echoed by other outlets",
    "PRICE_DATA_ISSUES": "gaps in the price data",
    "CALIBRATED": "probability fitted on past calls",
    "UNCALIBRATED": "probability not yet fitted on past calls",
    "TRACK_RECORD_AGAINST": "past calls like this were mostly wrong",
}
# Context that says how a call was computed rather than what it rests on: left to /digest full.
_QUIET = frozenset({"DIVERGENT_SHORT", "DIVERGENT_MID", "DIVERGENT_LONG", "ADAPTIVE_TRIGGER", "DUPLICATES_FOLDED",
                    "CALIBRATED", "UNCALIBRATED"})


def reasons_in_words(codes: Sequence[str], quiet: bool = True) -> str:
    words = [REASON_WORDS.get(code, code.replace("_", " ").lower()) for code in codes if not (quiet and code in _QUIET)]
    return "; ".join(words)


def _story_line(story: Story, as_of: datetime) -> Line:
    ago = age(as_of - story.published) if story.published is not None else "time unknown"
    return line(italic(f"{story.source}, {ago} before: "), f"“{story.title}”")


def _moves(item: DigestItem) -> str:
    if item.last_price is None:
        return ""
    spans = ", ".join(f"{m.change:+.1%} over {m.hours:g} h" for m in item.moves)
    return f"{item.last_price:,.6g}" + (f": {spans}" if spans else "")


def _call_lines(item: DigestItem, as_of: datetime) -> tuple[Line, ...]:
    """A tradeable row: the call, the price move, why, and the story it rests on."""
    lines = [line(bold(f"{item.symbol} {_DIRECTION[item.direction]}"), f" · {_chance(item.probability)}")]
    moves = _moves(item)
    if moves:
        lines.append(line(moves))
    lines.append(line(reasons_in_words(item.reason_codes).capitalize() + "."))
    if item.lead is not None:
        lines.append(_story_line(item.lead, as_of))
    return tuple(lines)


def _holds_line(holds: Sequence[DigestItem], after_calls: bool) -> Line:
    """Every hold row in one line, grouped by why: "7 more on hold: SOL, XRP — no clear story; ADA — no news"."""
    groups: dict[str, list[str]] = {}
    for item in holds:
        why = REASON_WORDS.get(item.reason_codes[0], "no call") if item.reason_codes else "no call"
        groups.setdefault(why, []).append(item.symbol)
    more = "more " if after_calls else ""
    return line(f"{len(holds)} {more}on hold: " + "; ".join(f"{', '.join(symbols)} — {why}" for why, symbols in groups.items()))


def _about(snapshot: DigestSnapshot) -> tuple[str, list[Line]]:
    digest = snapshot.digest
    basis = f" ({digest.as_of_basis})" if digest.as_of_basis else ""
    about = [line(f"{digest.headline_count} headlines read; sentiment by the {digest.sentiment_backend} model.")]
    if digest.degraded:
        about.append(line(bold("DEGRADED: "), "; ".join(digest.problems)))
    return f"Tracer Bullet digest as of {when(digest.as_of)}{basis}", about


def _proposal_section(snapshot: DigestSnapshot, lines: Any) -> list[Section]:
    if snapshot.proposal is not None:
        return [section("Proposal", *lines(snapshot.proposal))]
    if snapshot.outcome is not None:
        return [section("Proposal", outcome_line(snapshot.outcome))]
    return []


@doc_for.register
def digest_doc(snapshot: DigestSnapshot) -> Doc:
    """The digest for a phone: calls first with their story and price move, holds folded into one line."""
    title, about = _about(snapshot)
    digest = snapshot.digest
    calls = [item for item in digest.items if item.direction is not Direction.HOLD]
    holds = [item for item in digest.items if item.direction is Direction.HOLD]
    sections = [section(None, *about)]
    sections += [section(None, *_call_lines(item, digest.as_of)) for item in calls]
    if not calls:
        sections.append(section(None, line("No call this cycle.")))
    if holds:
        sections.append(section(None, _holds_line(holds, bool(calls)), line("/digest full shows every asset.")))
    if digest.prediction_markets is not None:
        sections.append(section("Prediction markets", *_compact_market_lines(digest.prediction_markets)))
    sections += _proposal_section(snapshot, compact_card_lines)
    return Doc(title, tuple(sections), "warn" if digest.degraded else "info")


def _full_item(item: DigestItem, as_of: datetime) -> tuple[Line, ...]:
    head = line(bold(f"{item.rank}. {item.symbol} {_DIRECTION[item.direction]}"), f"  {_chance(item.probability)}  ",
                _codes(item.reason_codes))
    lines = [head, line(item.evidence)]
    moves = _moves(item)
    if moves:
        lines.append(line(moves))
    return tuple(lines)


# --- prediction markets (intelligence/prediction_markets.py: each line is a sentence without numbers) ---

COMPACT_MARKETS = 2  # lines set beside our calls that the phone digest shows; /markets has them all


def _market_line(market: MarketLine) -> Line:
    return line(bold(f"{market.symbol}: "), market.line)


def _market_count(n: int) -> str:
    return f"{n} market{'s' if n != 1 else ''}"


def _compact_market_lines(markets: PredictionMarketsSection) -> tuple[Line, ...]:
    """The crowd in brief: where it stands beside our calls, then how many markets, on which assets."""
    if not markets.lines:
        return (line(markets.note or "No prediction market matched the watchlist this cycle."),)
    beside = [_market_line(m) for m in markets.lines if m.comparable][:COMPACT_MARKETS]
    symbols = ", ".join(dict.fromkeys(m.symbol for m in markets.lines))
    return (*beside, line(f"{_market_count(len(markets.lines))} on {symbols}; /markets shows them."))


def _full_market_lines(markets: PredictionMarketsSection) -> tuple[Line, ...]:
    lines = [_market_line(m) for m in markets.lines]
    if not lines and not markets.note:
        lines.append(line("No prediction market matched the watchlist this cycle."))
    if markets.note:
        lines.append(line(italic(markets.note)))
    lines.append(line(italic(f"Source: {markets.source}.")))
    return tuple(lines)


@doc_for.register
def markets_doc(markets: Markets) -> Doc:
    """/markets: the latest cycle's markets grouped by asset, each a sentence beside our reading of the news."""
    if not markets.enabled:
        return Doc("Prediction markets are off (TB_POLYMARKET).", (section(None, line(
            "Set TB_POLYMARKET=on and each cycle reads Polymarket (read only) beside its calls.")),))
    if markets.run_id is None:
        return Doc("No cycle has finished yet.", (section(None, line("/markets shows the crowd once one has.")),))
    section_ = markets.section
    if section_ is None:
        return Doc(f"The cycle as of {when(markets.as_of)} did not read the prediction markets.",
                   (section(None, line("The next cycle reads them (TB_POLYMARKET is on).")),))
    sections: list[Section] = []
    by_asset: dict[str, list[MarketLine]] = {}
    for market in section_.lines:
        by_asset.setdefault(market.symbol, []).append(market)
    for symbol, found in by_asset.items():
        sections.append(section(f"{found[0].name} ({symbol})", *(line(m.line) for m in found)))
    if not section_.lines and not section_.note:  # a note says why there is nothing (Polymarket not read)
        sections.append(section(None, line("No prediction market matched the watchlist this cycle.")))
    footer = [line(italic(section_.note))] if section_.note else []
    read = section_.count("seen")
    counted = (f"; {_market_count(section_.count('matched'))} matched of {read} read, {section_.count('shown')} shown"
               if read else "")
    footer.append(line(italic(f"Source: {section_.source}{counted}.")))
    sections.append(section(None, *footer))
    tone: Tone = "warn" if section_.note and not section_.lines else "info"
    return Doc(f"Prediction markets as of {when(markets.as_of)}", tuple(sections), tone)


@doc_for.register
def full_digest_doc(full: FullDigest) -> Doc:
    """Every asset with its evidence line, its codes and its price move (/digest full)."""
    snapshot = full.snapshot
    title, about = _about(snapshot)
    items = [ln for item in snapshot.digest.items for ln in _full_item(item, snapshot.digest.as_of)]
    sections = [section(None, *about), section("Signals", *items) if items else section(None, line("No signals this cycle."))]
    if snapshot.digest.prediction_markets is not None:
        sections.append(section("Prediction markets", *_full_market_lines(snapshot.digest.prediction_markets)))
    sections += _proposal_section(snapshot, card_lines)
    return Doc(title, tuple(sections), "warn" if snapshot.digest.degraded else "info")


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


# --- signals, subscriptions, help ---

@doc_for.register
def signals_doc(signals: Signals) -> Doc:
    if not signals.items:
        return Doc("No BUY or SELL signals yet.")
    lines = []
    for s in signals.items:
        seen = f", seen {s.seen} times since {when(s.first_seen)}" if s.seen > 1 else ""
        lines.append(line(bold(f"{s.symbol} {_DIRECTION[s.direction]}"),
                          f"  {_chance(s.probability)}, as of {when(s.as_of)}{seen}  ", _codes(s.reason_codes)))
        lines.append(line(s.evidence))
    return Doc("Recent signals", (section(None, *lines),))


def strong_signal_doc(s: SignalView) -> Doc:
    return Doc(f"Strong signal: {s.symbol} {_DIRECTION[s.direction]}", (section(None,
        line(f"{_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)), line(s.evidence)),))


@doc_for.register
def subscription_doc(sub: SubscriptionView) -> Doc:
    alerts = "on" if sub.immediate_alerts else "off"
    sound = ("Silent: they arrive without a sound (/subscribe sound turns it back on)." if sub.silent
             else "They arrive with a sound (/subscribe silent mutes them).")
    return Doc("Subscribed", (section(None,
        line(f"The digest comes daily at {sub.digest_time} ({sub.timezone})."),
        line(f"Immediate alerts for strong signals: {alerts}."),
        line(sound),
        line("/unsubscribe stops both.")),), "good")


# --- the watchlist and the chart ---

_CLASSES = {"crypto": "Coins", "us_equity": "US stocks", "etf": "ETFs"}


def _watched_lines(view: WatchlistView) -> list[Section]:
    groups: dict[str, list[Line]] = {}
    for asset in view.assets:
        origin = "" if asset.origin == "TB_UNIVERSE" else f" ({asset.origin})"
        groups.setdefault(_CLASSES.get(asset.asset_class, "Not in the catalogue"), []).append(
            line(bold(asset.symbol), f" {asset.name}", italic(origin) if origin else ""))
    return [section(title, *lines) for title, lines in groups.items()]


@doc_for.register
def watchlist_doc(view: WatchlistView) -> Doc:
    count = len(view.assets)
    footer = section(None, line("Operators change it with /watch SYMBOL and /unwatch SYMBOL; the next cycle reads it."))
    return Doc(f"Watchlist: {count} asset{'s' if count != 1 else ''}", (*_watched_lines(view), footer))


@doc_for.register
def watch_result_doc(result: WatchResult) -> Doc:
    if result.changed:
        title, tone = "Done", "good"
    elif result.ok:
        title, tone = "Nothing to change", "info"
    else:
        title, tone = f"Not done ({result.code})", "bad"
    symbols = ", ".join(result.watchlist.symbols)
    return Doc(title, (section(None, *text_lines(result.message)), section(None, line(f"Watchlist now: {symbols}."))),
               "good" if tone == "good" else "bad" if tone == "bad" else "info")


@doc_for.register
def chart_doc(chart: ChartImage) -> Doc:
    """The words under the picture (the picture itself travels beside this document)."""
    return Doc(f"{chart.symbol}: the tape and the story", (section(None, *text_lines(chart.caption)),))


@doc_for.register
def chart_refused_doc(refused: ChartRefused) -> Doc:
    return Doc("No chart", (section(None, line(refused.message[:1].upper() + refused.message[1:] + (
        "" if refused.message.endswith((".", "?")) else "."))),), "bad")


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


def store_wait_doc(doc: Doc, command: str, seconds: float, applied: bool) -> Doc:
    """An answer that waited for a busy store, with a last line saying so."""
    note = f"Your {command} waited {seconds:.0f} s for the store" + ("; it is applied." if applied else ".")
    return Doc(doc.title, doc.sections + (section(None, line(italic(note))),), doc.tone)


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


# --- exits and the everyday trade reports (trading/exits.py, trading/trade_reports.py) ---

_EXITS = {"take_profit": "take-profit", "stop_loss": "stop-loss", "close": "closed by an operator",
          "flatten": "flattened", "horizon_exit": "horizon exit", "entry": "an opposite proposal", "open": "open"}


@doc_for.register
def flatten_doc(result: FlattenResult) -> Doc:
    doc = action_doc(result)
    closes = [line(bold(f"{c.symbol} {c.side} {c.quantity:.6g}"),
                   f": {c.status or 'to close'}" + (f" at {c.fill_price:,.6g}" if c.fill_price is not None else "")
                   + (f", realised {c.realized_pnl:+,.2f} after fees" if c.realized_pnl is not None else ""))
              for c in result.closes]
    return Doc(doc.title, doc.sections + ((section(None, *closes),) if closes else ()), doc.tone)


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
