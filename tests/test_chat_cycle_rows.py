"""/markets, the digest's Prediction markets section and /chart through the real python-telegram-bot
Application and the fake Bot API (and the Discord bot against its fake API), on a store one real cycle
filled: the embedded snapshot cut where the engine makes its call, with TB_POLYMARKET=on against the
loopback Gamma fake (as tests/test_markets_cycle.py runs it)."""
from __future__ import annotations

import asyncio
import io
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from config import load_settings
from discord import http as discord_http
from discord.gateway import DiscordWebSocket
from pipeline.cycle import run_once
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from storage.chat_models import ChatCommandLog, OutboxMessage
from storage.db import open_store
from tests.chat_fixtures import OPERATOR, SUBSCRIBER, chat_stack, run
from tests.fake_discord_api import BOT_TOKEN, CHANNEL_ID, FakeDiscordApi
from tests.fake_gamma import FakeGamma, crypto_week
from tests.snapshot_fixtures import CALL_AS_OF, feeds_until
from tests.conftest import utc

NOW = utc(2025, 12, 11, 21, 56)  # a run as if live then: the quotes and the calls are of one moment
EMBEDDED = EmbeddedMarketData()
BTC_LINE = ("The crowd is split on Bitcoin ending above about today's price within a day; our reading of the "
            "news is bearish.")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _cycle(directory: Path, gamma: FakeGamma) -> Path:
    store = directory / "store.db"
    url = f"sqlite:///{store}"
    settings = load_settings(database_url=url, artifacts_dir=directory / "artifacts", polymarket=True,
                             feeds_dir=feeds_until(directory / "feeds"), polymarket_base_url=gamma.url,
                             provider_read_timeout_seconds=0.5, breaker_failures=2)
    sessions = open_store(url)
    run_once(settings, sessions, load_backend("embedded", "unused").backend, (), EMBEDDED, NOW)
    sessions.kw["bind"].dispose()
    return store


@pytest.fixture(scope="module")
def cycled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two stores after one cycle each: Polymarket read, and Polymarket down."""
    closes = {s: EMBEDDED.bars_until(s, CALL_AS_OF).bars[-1].close for s in ("BTC", "ETH", "XRP")}
    gamma = FakeGamma(events=crypto_week(NOW, closes)).start()
    try:
        read = _cycle(tmp_path_factory.mktemp("markets-read"), gamma)
        gamma.mode = "down"
        down = _cycle(tmp_path_factory.mktemp("markets-down"), gamma)
    finally:
        gamma.stop()
    return {"read": read, "down": down}


def _copy(store: Path, tmp_path: Path) -> str:
    shutil.copyfile(store, tmp_path / "chat.db")
    return f"sqlite:///{tmp_path / 'chat.db'}"


async def _ask(stack: Any, user: int, text: str) -> Any:
    """The whole reply: every part of a long one, once its outbox row says it was all sent."""
    before = len(stack.telegram.to(user))
    update_id = stack.telegram.command(user, text)

    def sent() -> bool:
        with stack.sessions() as session:
            return session.scalar(select(OutboxMessage.status).where(
                OutboxMessage.key.startswith(f"reply:{update_id}@"))) == "sent"

    await stack.telegram.wait_for(sent, timeout=60)
    parts = stack.telegram.to(user)[before:]
    return parts[0] if len(parts) == 1 else replace(parts[0], text="".join(p.text for p in parts))


def _replies(cycled: dict[str, Path], which: str, tmp_path: Path, texts: list[tuple[int, str]],
             **overrides: Any) -> list[Any]:
    async def scenario() -> list[Any]:
        async with chat_stack(database_url=_copy(cycled[which], tmp_path), **overrides) as stack:
            return [await _ask(stack, user, text) for user, text in texts]
    return run(scenario())


def test_markets_groups_the_latest_cycles_lines_by_asset(cycled, tmp_path) -> None:
    (reply,) = _replies(cycled, "read", tmp_path, [(SUBSCRIBER, "/markets")], polymarket=True)
    text = reply.text
    assert text.startswith("Prediction markets as of 2025-12-11 21:40 UTC")
    assert "Bitcoin (BTC)\n" + BTC_LINE in text
    assert "Ethereum (ETH)" in text and text.index("Bitcoin (BTC)") < text.index("Ethereum (ETH)")
    assert text.endswith("Source: Polymarket (read only); 42 markets matched of 50 read, 9 shown.")
    assert not any(ch.isdigit() for ln in text.split("\n") if ln.startswith("The crowd") for ch in ln)


def test_the_digest_carries_the_section_full_and_brief(cycled, tmp_path) -> None:
    full, compact = _replies(cycled, "read", tmp_path, [(SUBSCRIBER, "/digest full"), (SUBSCRIBER, "/digest")],
                             polymarket=True)
    assert "\nPrediction markets\nBTC: " + BTC_LINE in full.text
    assert full.text.index("Signals") < full.text.index("Prediction markets") < full.text.index("Proposal")
    assert full.text.rstrip().count("\nBTC: ") == 3  # every line shown, not only the comparable one
    brief = compact.text[compact.text.index("Prediction markets"):]
    assert brief.startswith("Prediction markets\nBTC: " + BTC_LINE + "\n9 markets on BTC, ETH, XRP; /markets shows them.")


def test_markets_says_when_polymarket_could_not_be_read_and_when_it_is_off(cycled, tmp_path) -> None:
    down, digest = _replies(cycled, "down", tmp_path, [(SUBSCRIBER, "/markets"), (SUBSCRIBER, "/digest")],
                            polymarket=True)
    assert "matched" not in down.text  # nothing was read: the note says why, no count pretends otherwise
    assert "\n\nPolymarket could not be read in full this cycle: HTTP 503 from http://127.0.0.1:" in down.text
    assert "Prediction markets\nPolymarket could not be read in full this cycle" in digest.text
    (off,) = _replies(cycled, "read", tmp_path, [(SUBSCRIBER, "/markets")])
    assert off.text.startswith("Prediction markets are off (TB_POLYMARKET).")


def test_chart_arrives_as_a_photo_with_its_caption_and_refusals_as_messages(cycled, tmp_path) -> None:
    photo, typo, garbled, days = _replies(cycled, "read", tmp_path, [
        (SUBSCRIBER, "/chart btc 3"), (SUBSCRIBER, "/chart BTX"), (SUBSCRIBER, "/chart BTC lots"),
        (SUBSCRIBER, "/chart BTC 91")])
    assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(photo.photo))
    image.load()  # decodes the whole picture: a truncated upload fails here
    assert image.format == "PNG" and image.height > image.width  # drawn for a phone held upright
    assert photo.text.startswith("BTC: the tape and the story\n\nBTC (Bitcoin), ")
    assert "price above, news score below." in photo.text and "<b>BTC: the tape and the story</b>" in photo.html
    assert typo.photo is None and typo.text.startswith("No chart") and "did you mean BTC" in typo.text
    assert garbled.photo is None and "'lots' is not a number of days" in garbled.text
    assert "Usage: /chart SYMBOL [DAYS], e.g. /chart ETH 14" in garbled.text
    assert "'91' is not a number of days from more than 0 to 90" in days.text


def test_a_chart_survives_a_restart_from_its_outbox_row_and_is_sent_once(cycled, tmp_path) -> None:
    """The PNG travels in the outbox row: a bot stopped before the send delivers it after a restart, once."""
    async def scenario() -> None:
        async with chat_stack(database_url=_copy(cycled["read"], tmp_path)) as stack:
            stack.telegram.outage({"sendPhoto"}, status=502)
            stack.telegram.command(SUBSCRIBER, "/chart BTC")
            await stack.telegram.wait_for(lambda: any(m == "sendPhoto" for m, _ in stack.telegram.calls), timeout=60)
            await stack.stop_bot()
            with stack.sessions() as session:
                row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
                assert row.status == "pending" and row.payload["method"] == "photo"
            stack.telegram.recover()
            stack.restart()
            await stack.start_bot()
            await stack.telegram.wait_for(lambda: len(stack.telegram.to(SUBSCRIBER)) == 1, timeout=30)
            await asyncio.sleep(0.3)  # time enough for a second copy to go out, were one queued
            sent = stack.telegram.to(SUBSCRIBER)
            assert len(sent) == 1 and sent[0].photo is not None and sent[0].photo.startswith(PNG_SIGNATURE)
            with stack.sessions() as session:
                assert session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "reply")).one() == "sent"
                logged = session.scalars(select(ChatCommandLog.command)).all()
            assert logged == ["chart"]  # drawn once, for the one command

    run(scenario())


def test_discord_bot_sends_the_chart_as_an_attachment(cycled, tmp_path) -> None:
    original = discord_http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY

    async def scenario() -> None:
        api = FakeDiscordApi()
        await api.start()
        try:
            async with chat_stack(database_url=_copy(cycled["read"], tmp_path), discord_token=BOT_TOKEN,
                                  discord_api_url=api.root, polymarket=True) as stack:
                await api.connected()
                await api.say("777", "!chart ETH")
                await api.say("777", "!markets")
                await api.wait_for(lambda: len(api.replies_to(CHANNEL_ID)) == 2, timeout=60)
                chart, markets = api.replies_to(CHANNEL_ID)
                assert chart["embeds"][0]["title"] == "ETH: the tape and the story"
                assert chart["embeds"][-1]["image"]["url"] == "attachment://chart.png"
                ((channel, name, png),) = api.uploads
                assert (channel, name) == (CHANNEL_ID, "chart.png") and png.startswith(PNG_SIGNATURE)
                Image.open(io.BytesIO(png)).load()
                assert markets["embeds"][0]["title"].startswith("Prediction markets as of")
                with stack.sessions() as session:
                    assert session.scalars(select(OutboxMessage.channel)).all() == ["discord_bot"] * 2
        finally:
            await api.stop()

    try:
        run(scenario())
    finally:
        discord_http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = original


def test_help_lists_the_new_rows_by_role(cycled, tmp_path) -> None:
    operator, subscriber = _replies(cycled, "read", tmp_path, [(OPERATOR, "/help"), (SUBSCRIBER, "/help")])
    for usage in ("/chart SYMBOL [DAYS]", "/markets", "/universe", "/watch SYMBOL", "/unwatch SYMBOL"):
        assert usage in operator.text
    assert "/chart SYMBOL [DAYS]" in subscriber.text and "/universe" in subscriber.text
    assert "/watch" not in subscriber.text and "/unwatch" not in subscriber.text
