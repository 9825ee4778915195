"""Wiring for a long-running process (`serve`, or `tracer_bullet.py bot`): the Telegram application,
the Discord webhook, the outbox worker and the digest schedule, run until a stop event is set."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from telegram.error import InvalidToken, TelegramError

from trading.alerts import Alert
from service.composition import App, build_app
from service.operator import OperatorService
from bot import messages as docs
from bot.delivery import REFUSAL, Backoff, Budget, DeliveryWorker
from bot.discord_webhook import DiscordWebhookSender
from bot.loop_watch import LoopWatch
from bot.store_calls import StoreCalls
from bot.envelopes import discord_payload
from bot.notifier import Audience, ChatAlerts, ChatPublisher
from bot.outbox import Outbox
from redaction import redact, register_secrets, webhook_secret
from bot.telegram_app import TelegramApp, build_application, register_menus
from bot.telegram_sender import TelegramSender
from config import Settings
from storage.db import Sessions

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]


def outage_payload(channel: str, reason: str, waiting: int) -> dict[str, Any]:
    text = (f"{channel.capitalize()} is not taking messages ({reason}). {waiting} message(s) wait in the outbox "
            "and go out when it is back; alerts are mirrored here meanwhile.")
    return discord_payload(docs.alert_doc(Alert("outage", text, f"outage:{channel}")))


@dataclass
class ChatRuntime:
    settings: Settings
    app: App
    outbox: Outbox
    publisher: ChatPublisher
    worker: DeliveryWorker
    application: TelegramApp | None
    discord: DiscordWebhookSender | None
    discord_bot: Any = None  # bot.discord_bot.DiscordReader when TB_DISCORD_TOKEN is set
    telegram_ready: asyncio.Event = field(default_factory=asyncio.Event)
    store: StoreCalls = field(default_factory=StoreCalls)  # the chat handlers' store calls, off the event loop
    # Warns in the log when the event loop is kept from running for more than a second.
    loop_watch: LoopWatch = field(default_factory=lambda: LoopWatch(warn_after=1.0))

    @property
    def service(self) -> OperatorService:
        return self.app.service

    async def _start_telegram(self, stop: asyncio.Event) -> bool:
        """Initialise and start polling, retrying while Telegram is unreachable; False if stopped first."""
        app = self.application
        assert app is not None
        delay = self.settings.outbox_backoff_seconds
        while not stop.is_set():
            try:
                await app.initialize()
                break
            except InvalidToken:
                log.error("Telegram rejected the bot token (TB_TELEGRAM_TOKEN); the bot stays off")
                return False
            except TelegramError as exc:
                log.warning("Telegram not reachable at start (%s); retrying in %.0f s", redact(str(exc)), delay)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                delay = min(delay * 2, self.settings.outbox_backoff_max_seconds)
        if stop.is_set():
            return False
        await app.start()
        await register_menus(app, self.settings)
        assert app.updater is not None
        # drop_pending_updates=False: commands sent while we were down are handled now.
        await app.updater.start_polling(timeout=self.settings.telegram_poll_seconds, allowed_updates=ALLOWED_UPDATES,
                                        drop_pending_updates=False, bootstrap_retries=-1)
        self.telegram_ready.set()
        self.loop_watch.restart()  # from here on: starting up (imports, TLS set-up) is not what the figure is for
        self.worker.wake()
        return True

    async def _stop_telegram(self) -> None:
        self.store.stop()  # a command still waiting for a busy store tries once more, then gives up (logged)
        app = self.application
        if app is None or not self.telegram_ready.is_set():
            if app is not None:
                await app.shutdown()
            return
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _run_discord_bot(self, stop: asyncio.Event) -> None:
        """Log in, answer read-only commands until `stop`; a bad token or no network leaves the rest running."""
        import discord

        from bot.discord_bot import DiscordBotSender

        client = self.discord_bot
        assert client is not None and self.settings.discord_token is not None
        try:
            await client.login(self.settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            log.error("Discord rejected the bot token (TB_DISCORD_TOKEN); the Discord bot stays off")
            await client.close()
            return
        except Exception as exc:  # network or server trouble at login: say so, keep everything else going
            log.error("Discord bot could not log in: %s", redact(f"{exc.__class__.__name__}: {exc}"))
            await client.close()
            return
        self.worker.add_sender(DiscordBotSender(client))
        connection = asyncio.create_task(client.connect(reconnect=True))
        await stop.wait()
        await client.close()
        try:
            await connection
        except Exception as exc:
            log.info("Discord bot connection ended: %s", redact(str(exc)))

    async def run(self, stop: asyncio.Event, digest_check_seconds: float = 30.0) -> None:
        """Answer commands, deliver the outbox and queue due digests until `stop` is set."""
        worker = asyncio.create_task(self.worker.run(stop, self.settings.outbox_poll_seconds))
        watch = asyncio.create_task(self.loop_watch.run(stop))
        telegram = asyncio.create_task(self._start_telegram(stop)) if self.application is not None else None
        discord_bot = asyncio.create_task(self._run_discord_bot(stop)) if self.discord_bot is not None else None
        try:
            while not stop.is_set():
                try:
                    await asyncio.to_thread(self.publisher.due_digests)
                except Exception:  # a bad row must not stop the bot: log it and look again later
                    log.exception("queueing due digests failed")
                try:
                    await asyncio.wait_for(stop.wait(), digest_check_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            stop.set()
            if telegram is not None:
                await telegram
            if discord_bot is not None:
                await discord_bot
            await worker
            await self._stop_telegram()
            await watch
            self.store.close()
            log.info("chat stopped; the event loop's longest stall since it was ready %.2f s, %d over a second",
                     self.loop_watch.longest, self.loop_watch.stalls)
            if self.discord is not None:
                await self.discord.aclose()


def build_runtime(settings: Settings, sessions: Sessions, clock: Callable[[], datetime]) -> ChatRuntime:
    """Everything configured in `settings` (Telegram and/or Discord), not started yet: the application from
    the composition root, its trading desk alerting through the chat channels, and the chat side over it."""
    secrets = []
    if settings.discord_webhook_url is not None:
        url = settings.discord_webhook_url.get_secret_value()
        secrets += [url, webhook_secret(url)]
    register_secrets(secrets)
    outbox = Outbox(sessions, clock)
    worker = DeliveryWorker(outbox, {}, Backoff(settings.outbox_backoff_seconds, settings.outbox_backoff_max_seconds),
                            clock, outage_doc=outage_payload,
                            budgets={REFUSAL: Budget(settings.telegram_refusals_per_second)})
    store = StoreCalls()
    discord = None
    if settings.discord_webhook_url is not None:
        discord = DiscordWebhookSender(settings.discord_webhook_url.get_secret_value(), settings.chat_timeout_seconds)
        worker.add_sender(discord)
    alerts = ChatAlerts(Audience.from_settings(settings), outbox, worker.wake)
    app = build_app(settings, sessions=sessions, clock=clock, notifier=alerts)
    publisher = ChatPublisher(alerts, app.service)
    application = (build_application(settings, app.service, outbox, worker.wake, alerts, store)
                   if settings.telegram_token else None)
    if application is not None:
        # Sending needs no getMe first: while Telegram is unreachable at start, deliveries fail like any
        # other outage (Discord hears of it, digests go there) instead of waiting unseen.
        worker.add_sender(TelegramSender(application.bot))
    reader = None
    if settings.discord_token is not None:
        from bot.actions import Actions
        from bot.discord_bot import DiscordReader, use_api_root

        register_secrets([settings.discord_token.get_secret_value()])
        use_api_root(settings.discord_api_url)
        reader = DiscordReader(Actions(app.service), outbox, worker.wake, store)
    return ChatRuntime(settings, app, outbox, publisher, worker, application, discord, reader, store=store)
