"""One document, two renderings: Telegram HTML and Discord embeds show the same text in the same order."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trading.alerts import Alert
from bot.message_model import Doc, plain
from bot.messages import alert_doc, digest_doc, full_digest_doc, markets_doc, proposal_doc
from service.chat_ops import DigestSnapshot
from service.proposal_card import Exposure, ProposalCard, TrackRecord
from service.results import FullDigest, Markets
from trading.views import ProposalView
from bot.render_discord import discord_messages
from bot.render_telegram import telegram_parts, to_html
from intelligence.digest import Digest, DigestItem, Story
from intelligence.prediction_markets import MarketLine, PredictionMarketsSection
from intelligence.types import Direction
from tests.conftest import utc
from tests.fake_discord import embed_problems
from tests.fake_telegram import parse_html, utf16_len

AS_OF = utc(2025, 12, 13, 10, 14)
_MD = re.compile(r"\\(.)|\*\*|_|(.)", re.S)
# Text that means something to HTML or Markdown, emoji, and plain words.
_NASTY = st.lists(st.sampled_from(list("ab <>&*_~`|#-[]()\\@😀é") + ["\n", "**", "</b>", "&amp;"]), max_size=40).map("".join)


def discord_visible(messages: list[dict]) -> str:
    """What a Discord reader sees: the title, a blank line, then the descriptions, Markdown undone."""
    embeds = [e for m in messages for e in m["embeds"]]
    title = "".join(a or b for a, b in _MD.findall(embeds[0].get("title", "")))
    body = "".join("".join(a or b for a, b in _MD.findall(e.get("description", ""))) for e in embeds)
    return title + ("\n\n" + body if body else "")


def telegram_visible(parts: list[str]) -> str:
    return "".join(parse_html(p) for p in parts)


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    items = []
    for rank in range(1, draw(st.integers(0, 12)) + 1):
        direction = draw(st.sampled_from(list(Direction)))
        probability = None if direction is Direction.HOLD else draw(st.floats(0.35, 0.65))
        items.append(DigestItem(rank, draw(st.sampled_from(["BTC", "SOL", "X<Y"])), "Name", direction, probability,
                                draw(st.floats(0, 1)), tuple(draw(st.lists(st.sampled_from(["A_B", "C*D"]), max_size=3))),
                                draw(_NASTY) + draw(st.text(max_size=900)),
                                lead=draw(st.none() | st.builds(Story, _NASTY, _NASTY, st.just(AS_OF)))))
    problems = tuple(draw(st.lists(_NASTY, max_size=3)))
    return Digest(AS_OF, draw(_NASTY), draw(st.integers(0, 500)), tuple(items), problems, draw(_NASTY),
                  prediction_markets=draw(st.none() | markets_sections()))


@st.composite
def markets_sections(draw: st.DrawFn) -> PredictionMarketsSection:
    lines = tuple(MarketLine(draw(st.sampled_from(["BTC", "ETH", "X<Y"])), draw(st.sampled_from(["Bitcoin", "A*B"])),
                             str(n), draw(_NASTY), "above", AS_OF, draw(st.booleans()), draw(_NASTY) + "x")
                  for n in range(draw(st.integers(0, 8))))
    counts = (("matched", len(lines)), ("seen", draw(st.integers(0, 60))), ("shown", len(lines)))
    return PredictionMarketsSection(lines, counts, note=draw(st.none() | _NASTY.map(lambda t: t + "!")))


@settings(max_examples=40, deadline=None)
@given(digests())
def test_digest_renders_the_same_text_in_the_same_order_on_both_channels(digest: Digest) -> None:
    for doc in (digest_doc(DigestSnapshot(1, digest, None)), full_digest_doc(FullDigest(DigestSnapshot(1, digest, None)))):
        _same_text_on_both_channels(doc)


@settings(max_examples=40, deadline=None)
@given(markets_sections(), st.booleans())
def test_markets_render_the_same_text_in_the_same_order_on_both_channels(section, enabled) -> None:
    _same_text_on_both_channels(markets_doc(Markets(enabled, 3, AS_OF, section)))


def test_the_markets_section_sits_after_the_assets_and_before_the_proposal() -> None:
    btc = MarketLine("BTC", "Bitcoin", "1", "Will Bitcoin be above $90,000?", "above", AS_OF, True,
                     "The crowd leans towards Bitcoin holding above its level; our reading of the news is bearish.")
    eth = replace(btc, symbol="ETH", name="Ethereum", market_id="2", comparable=False, line="The crowd leans down on Ethereum.")
    markets = PredictionMarketsSection((btc, eth, replace(btc, market_id="3", comparable=False, line="Third.")),
                                       (("matched", 3), ("seen", 10), ("shown", 3)))
    digest = Digest(AS_OF, "embedded", 5, (_item(1, "SOL", "SOL story"),), (), prediction_markets=markets)
    view = ProposalView(4, "SOL", "buy", 1.0, 140.0, 0.56, "proposed", AS_OF, AS_OF + timedelta(hours=4), 140.0)
    card = ProposalCard(view, "Solana", AS_OF, 1.0, 133.0, 150.5, 0.05, 0.075, 7.0, 100_000.0, timedelta(hours=24),
                        AS_OF, TrackRecord("low (50-55%)", 0, 0), (), Exposure(0.0, None, 0))
    full = plain(full_digest_doc(FullDigest(DigestSnapshot(1, digest, card))))
    assert full.index("SOL story") < full.index("Prediction markets\nBTC: The crowd leans towards") \
        < full.index("ETH: The crowd leans down") < full.index("BTC: Third.") < full.index("#4 BUY 1 SOL")
    compact = plain(digest_doc(DigestSnapshot(1, digest, card)))
    assert "Prediction markets\nBTC: The crowd leans towards" in compact and "leans down" not in compact
    assert "3 markets on BTC, ETH; /markets shows them." in compact
    assert compact.index("/markets shows them") < compact.index("#4 BUY 1 SOL")
    for doc in (digest_doc(DigestSnapshot(1, digest, card)), full_digest_doc(FullDigest(DigestSnapshot(1, digest, card)))):
        _same_text_on_both_channels(doc)


def _same_text_on_both_channels(doc: Doc) -> None:
    parts = telegram_parts(doc)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert telegram_visible(parts).strip() == plain(doc).strip()
    messages = discord_messages(doc)
    assert all(not embed_problems(m) for m in messages)
    assert discord_visible(messages).strip() == plain(doc).strip()


def _item(rank: int, symbol: str, evidence: str) -> DigestItem:
    return DigestItem(rank, symbol, symbol, Direction.BUY, 0.56, 0.8, ("DIVERGENCE_BULLISH",), evidence)


def test_a_long_digest_becomes_several_messages_in_order() -> None:
    items = tuple(_item(i, f"S{i}", f"evidence number {i} " + "word " * 150) for i in range(1, 31))
    doc = full_digest_doc(FullDigest(DigestSnapshot(1, Digest(AS_OF, "embedded", 152, items, ()), None)))
    parts = telegram_parts(doc)
    messages = discord_messages(doc)
    assert len(parts) > 1 and len(messages) > 1
    text = telegram_visible(parts)
    positions = [text.index(f"evidence number {i} ") for i in range(1, 31)]
    assert positions == sorted(positions)
    # No item is cut between messages while it fits in one: each part ends at a line break.
    assert all(p.endswith("\n") for p in parts[:-1])
    assert discord_visible(messages).strip() == telegram_visible(parts).strip()


def test_markup_in_data_is_shown_literally() -> None:
    nasty = "a <b>bold</b> claim & **stars** _x_"
    item = replace(_item(1, "SOL", nasty), lead=Story("Src <i>", nasty, AS_OF))
    for doc in (digest_doc(DigestSnapshot(1, Digest(AS_OF, "embedded", 3, (item,), ()), None)),
                full_digest_doc(FullDigest(DigestSnapshot(1, Digest(AS_OF, "embedded", 3, (item,), ()), None)))):
        _shows_markup_literally(doc)


def _shows_markup_literally(doc: Doc) -> None:
    html = to_html(doc)
    assert "&lt;b&gt;bold&lt;/b&gt; claim &amp; **stars**" in html
    assert "a <b>bold</b> claim & **stars** _x_" in telegram_visible([html])
    description = discord_messages(doc)[0]["embeds"][0]["description"]
    assert r"\*\*stars\*\* \_x\_" in description


def test_digest_facts_come_in_rank_order_with_the_proposal_last() -> None:
    items = tuple(_item(i, s, f"{s} story") for i, s in enumerate(["SOL", "BTC", "ETH"], start=1))
    digest = Digest(AS_OF, "embedded", 152, items, ("feed X: malformed",))
    view = ProposalView(4, "SOL", "buy", 1.0, 140.0, 0.56, "proposed", AS_OF, AS_OF + timedelta(hours=4), 140.0)
    card = ProposalCard(view, "Solana", AS_OF, 1.0, 133.0, 150.5, 0.05, 0.075, 7.0, 100_000.0, timedelta(hours=24),
                        AS_OF, TrackRecord("low (50-55%)", 0, 0), (), Exposure(0.0, None, 0))
    snapshot = DigestSnapshot(7, digest, card)
    text = plain(full_digest_doc(FullDigest(snapshot)))  # what chat shows and the terminal prints
    facts = ["2025-12-13 10:14 UTC", "152 headlines", "DEGRADED", "feed X: malformed", "SOL", "SOL story", "BTC",
             "BTC story", "ETH", "ETH story", "#4 BUY 1 SOL", "Stop 133", "until 2025-12-13 14:14 UTC"]
    found = [text.index(f) for f in facts]
    assert found == sorted(found), text
    compact = plain(digest_doc(snapshot))  # the phone version: calls with their reasons, then the proposal
    facts = ["2025-12-13 10:14 UTC", "DEGRADED", "SOL BUY", "BTC BUY", "ETH BUY", "#4 BUY 1 SOL", "stop 133, target 150.5"]
    found = [compact.index(f) for f in facts]
    assert found == sorted(found), compact


def test_every_alert_kind_has_a_title_and_the_text() -> None:
    for kind in ("proposal", "fill", "halt", "guard_breach", "error", "reconciliation", "something_new"):
        doc = alert_doc(Alert(kind, "Line one\nLine <two>", f"k:{kind}"))
        assert doc.title and "Line <two>" in plain(doc)
        assert telegram_visible(telegram_parts(doc)) == plain(doc)
        assert discord_visible(discord_messages(doc)) == plain(doc)


def test_a_title_too_long_for_an_embed_leads_the_description() -> None:
    doc = Doc("T" * 300)
    messages = discord_messages(doc)
    assert "title" not in messages[0]["embeds"][0] and not embed_problems(messages[0])
    assert ("T" * 300) in messages[0]["embeds"][0]["description"]


def test_nobody_is_pinged_by_discord_messages() -> None:
    doc = alert_doc(Alert("error", "@everyone look", "k"))
    assert all(m["allowed_mentions"] == {"parse": []} for m in discord_messages(doc))


def test_times_are_utc_labelled() -> None:
    doc = digest_doc(DigestSnapshot(1, Digest(AS_OF + timedelta(minutes=1), "embedded", 1, (), ()), None))
    assert doc.title.endswith("10:15 UTC")


def test_a_card_says_when_its_position_ends() -> None:
    view = ProposalView(4, "SOL", "buy", 1.0, 140.0, 0.56, "proposed", AS_OF, AS_OF + timedelta(hours=4), 140.0)
    card = ProposalCard(view, "Solana", AS_OF, 1.0, 133.0, 150.5, 0.05, 0.075, 7.0, 100_000.0, timedelta(hours=24),
                        AS_OF, TrackRecord("low (50-55%)", 0, 0), (), Exposure(0.0, None, 0))
    at_horizon = plain(proposal_doc(card))
    assert "It ends at the stop, the target or after 24 h" in at_horizon and "/keep SOL" in at_horizon
    held = plain(proposal_doc(replace(card, horizon_exit=False)))
    assert "It ends at the stop or the target; the call is judged after 24 h." in held and "/keep" not in held


def test_a_digest_without_a_call_says_so_and_counts_every_hold() -> None:
    holds = tuple(DigestItem(i, s, s, Direction.HOLD, None, 0.1, ("NO_NEWS",), "nothing") for i, s in enumerate(["ADA", "BNB"], 1))
    text = plain(digest_doc(DigestSnapshot(1, Digest(AS_OF, "embedded", 152, holds, ()), None)))
    assert "No call this cycle." in text and "2 on hold: ADA, BNB" in text and "more on hold" not in text
