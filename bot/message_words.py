"""The shared vocabulary of the message model: `doc_for` (a command's answer to its Doc), how numbers,
chances and reason codes are said, and the proposal card, which the digest and alerts repeat."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any, Sequence

from bot.message_model import Doc, Line, Span, bold, italic, line, section, when
from intelligence.digest import Story
from intelligence.types import Direction
from service.proposal_card import ProposalCard
from service.results import (
    Proposals,
)
from trading.proposal_builder import OutcomeCode, ProposalOutcome
from trading.views import ProposalView

_DIRECTION = {Direction.BUY: "BUY", Direction.SELL: "SELL", Direction.HOLD: "hold"}


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


def _story_line(story: Story, as_of: datetime) -> Line:
    ago = age(as_of - story.published) if story.published is not None else "time unknown"
    return line(italic(f"{story.source}, {ago} before: "), f"“{story.title}”")
