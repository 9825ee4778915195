"""The digest, for a phone and in full, and the prediction markets beside it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from bot.message_model import Doc, Line, Section, Tone, bold, italic, line, section, when
from intelligence.digest import DigestItem
from intelligence.types import Direction
from service.chat_ops import DigestSnapshot
from service.results import (
    FullDigest, Markets, NoDigest,
)
from intelligence.prediction_markets import MarketLine, PredictionMarketsSection
from bot.message_words import _DIRECTION, _chance, _codes, _story_line, card_lines, compact_card_lines, doc_for, outcome_line


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
