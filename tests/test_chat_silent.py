"""/subscribe ... silent: the chat's digests and alerts reach the Bot API with disable_notification=true, and
only that chat's; /subscribe's words in any order, each part at most once."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, strategies as st

from intelligence.types import Direction
from service.arguments import SUBSCRIBE_USAGE, SubscriptionRequest, subscription_request
from service.roles import UsageError
from storage.chat_models import ChatSubscription
from tests.chat_fixtures import MARKET_TIME, OPERATOR, SUBSCRIBER, chat_stack, run, seed_run, utc


async def _ask(stack, user: int, text: str) -> str:
    before = len(stack.telegram.to(user))
    stack.telegram.command(user, text)
    await stack.telegram.wait_for(lambda: len(stack.telegram.to(user)) > before)
    return stack.telegram.to(user)[before].text


def test_a_silent_chats_digest_and_alerts_go_without_a_sound_and_no_other_chats_do() -> None:
    now = [utc(2025, 12, 13, 7, 59)]

    async def scenario() -> None:
        async with chat_stack(lambda: now[0]) as stack:
            tg = stack.telegram
            quiet = await _ask(stack, SUBSCRIBER, "/subscribe silent 08:00 UTC")
            assert "Silent: they arrive without a sound (/subscribe sound turns it back on)." in quiet
            loud = await _ask(stack, OPERATOR, "/subscribe 08:00 UTC")
            assert "They arrive with a sound (/subscribe silent mutes them)." in loud
            assert not any(m.silent for m in tg.sent)  # answers to commands are not what silent is about
            run_id, _ = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.58, 0.9)])
            now[0] = utc(2025, 12, 13, 8, 1)
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 2 and len(tg.to(OPERATOR)) == 2)
            digest_quiet, digest_loud = tg.to(SUBSCRIBER)[1], tg.to(OPERATOR)[1]
            assert digest_quiet.text.startswith("Tracer Bullet digest") and digest_quiet.silent
            assert digest_loud.text.startswith("Tracer Bullet digest") and not digest_loud.silent
            stack.runtime.publisher.cycle_finished(run_id, None)  # the strong SOL signal, to both chats
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 3 and len(tg.to(OPERATOR)) == 3)
            assert tg.to(SUBSCRIBER)[2].text.startswith("Strong signal: SOL BUY") and tg.to(SUBSCRIBER)[2].silent
            assert not tg.to(OPERATOR)[2].silent
            # Sound again: the next day's digest rings.
            assert "They arrive with a sound" in await _ask(stack, SUBSCRIBER, "/subscribe 08:00 UTC sound")
            with stack.sessions() as session:
                assert session.get_one(ChatSubscription, SUBSCRIBER).silent is False
            now[0] = utc(2025, 12, 14, 8, 1)
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 5)
            assert tg.to(SUBSCRIBER)[4].text.startswith("Tracer Bullet digest") and not tg.to(SUBSCRIBER)[4].silent
            await asyncio.sleep(0.2)
            assert [m.silent for m in tg.sent].count(True) == 2

    run(scenario())


def test_garbled_subscribe_words_get_the_usage() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            for text in ("/subscribe silent sound", "/subscribe silent silent", "/subscribe alerts noalerts",
                         "/subscribe 07:00 08:00", "/subscribe Europe/Berlin UTC"):
                assert SUBSCRIBE_USAGE in await _ask(stack, SUBSCRIBER, text), text
            assert stack.runtime.service.subscription(SUBSCRIBER) is None

    run(scenario())


# --- the words of /subscribe ---

_PARTS = {
    "time": st.sampled_from(["07:30", "8:05", "23:59"]),
    "zone": st.sampled_from(["Europe/Berlin", "UTC", "America/New_York"]),
    "alerts": st.sampled_from(["alerts", "noalerts", "ALERTS", "NoAlerts"]),
    "silent": st.sampled_from(["silent", "sound", "Silent", "SOUND"]),
}


@st.composite
def requests(draw: st.DrawFn) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(_PARTS)), unique=True))
    return [draw(_PARTS[part]) for part in chosen]


@given(requests(), st.randoms(use_true_random=False))
def test_any_order_of_the_same_words_means_the_same(words: list[str], random) -> None:
    wanted = subscription_request(words)
    shuffled = list(words)
    random.shuffle(shuffled)
    assert subscription_request(shuffled) == wanted
    lowered = {w.lower() for w in words}
    assert wanted.silent is ("silent" in lowered)
    assert wanted.alerts is ("noalerts" not in lowered)
    assert wanted.time == next((w for w in words if ":" in w), None)
    assert wanted.zone == next((w for w in words if "/" in w or w == "UTC"), None)


@given(requests(), st.sampled_from(sorted(_PARTS)), st.data())
def test_a_part_given_twice_is_a_usage_error(words: list[str], part: str, data) -> None:
    extra = [data.draw(_PARTS[part]), data.draw(_PARTS[part])]
    with pytest.raises(UsageError, match="Usage: /subscribe"):
        subscription_request(words + extra)


def test_no_words_are_the_defaults() -> None:
    assert subscription_request([]) == SubscriptionRequest(None, None, True, False)
