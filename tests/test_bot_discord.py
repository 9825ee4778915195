"""The optional discord.py bot against a fake Discord API and gateway: read-only commands answered in a
server, control commands and direct messages refused and logged, replies through the outbox."""
from __future__ import annotations

from sqlalchemy import select

from discord import http as discord_http
from discord.gateway import DiscordWebSocket
from storage.chat_models import ChatCommandLog, OutboxMessage
from tests.chat_fixtures import chat_stack, run
from tests.fake_discord_api import BOT_TOKEN, CHANNEL_ID, FakeDiscordApi


def _titles(bodies: list[dict]) -> list[str]:
    return [body["embeds"][0].get("title", "") for body in bodies]


def test_discord_bot_answers_read_only_commands_and_refuses_the_rest() -> None:
    original = discord_http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY

    async def scenario() -> None:
        api = FakeDiscordApi()
        await api.start()
        try:
            async with chat_stack(discord_token=BOT_TOKEN, discord_api_url=api.root) as stack:
                await api.connected()
                assert api.identified[0]["token"] == BOT_TOKEN
                for text in ("!status", "!help", "!approve 1", "!pause", "!nonsense", "hello, no command"):
                    await api.say("777", text)
                await api.say("888", "!status", in_guild=False, channel_id="9999")
                await api.wait_for(lambda: len(api.replies_to(CHANNEL_ID)) == 5 and len(api.replies_to("9999")) == 1)
                status, help_, approve, pause, unknown = api.replies_to(CHANNEL_ID)
                assert _titles([status]) == ["Status"] and "Trading state: **ACTIVE**" in status["embeds"][0]["description"]
                assert "**!status**" in help_["embeds"][0]["description"]
                assert "approve" not in help_["embeds"][0]["description"]
                assert _titles([approve, pause]) == ["Sorry, you are not allowed to do that."] * 2
                assert "Unknown command !nonsense" in unknown["embeds"][0]["description"]
                assert _titles(api.replies_to("9999")) == ["Sorry, you are not allowed to do that."]
                assert all(body["allowed_mentions"] == {"parse": []} for _, body in api.posted)
                with stack.sessions() as session:
                    rows = list(session.scalars(select(ChatCommandLog).order_by(ChatCommandLog.id)))
                    channels = {r.channel for r in session.scalars(select(OutboxMessage))}
                # In order per channel; channels are answered side by side.
                log = [(r.channel, r.command, r.role, r.allowed) for r in rows if r.chat_id == int(CHANNEL_ID)]
                assert log == [("discord", "status", "reader", True), ("discord", "help", "reader", True),
                               ("discord", "approve", "reader", False), ("discord", "pause", "reader", False),
                               ("discord", "nonsense", "reader", True)]
                assert [(r.command, r.role, r.allowed) for r in rows if r.chat_id == 9999] == [("status", "stranger", False)]
                assert channels == {"discord_bot"}
        finally:
            await api.stop()

    try:
        run(scenario())
    finally:
        discord_http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = original
