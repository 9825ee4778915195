"""The Telegram adapter: a python-telegram-bot v22 Application whose handlers only parse and enqueue.

Commands and button presses go to `Actions` (roles, the operator service, documents); the answer
goes into the outbox like every other message, keyed by the update id, so an update delivered
twice (a crash before Telegram learnt we had it) is answered once.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any, Callable

from telegram import BotCommand, BotCommandScope, BotCommandScopeChat, BotCommandScopeDefault, Chat, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from service.chat_ops import CommandRecord
from service.commands import Role, for_channel
from service.operator import OperatorService
from bot import messages as docs
from bot.actions import Actions, Caller, Invocation, Reply
from bot.chat_order import PerChatOrder
from bot.delivery import REFUSAL
from bot.refusal_limit import RefusalLimit
from bot.envelopes import (
    remove_buttons_envelope, telegram_doc_photo_envelopes, telegram_envelope, telegram_photo_envelope,
)
from bot.notifier import Audience, ChatAlerts
from bot.outbox import Envelope, Outbox
from bot.reply_writer import ReplyWriter
from bot.store_calls import StoreCalls
from redaction import register_secrets
from config import Settings

log = logging.getLogger(__name__)
# python-telegram-bot's Application is generic in its bot, context and data types; ours uses the defaults.
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
TELEGRAM_API = "https://api.telegram.org"
CHANNEL = "telegram"


def bot_api_urls(base_url: str | None) -> tuple[str, str]:
    """PTB's base_url and base_file_url from TB_TELEGRAM_BASE_URL, the server root (no /bot<token>)."""
    root = (base_url or TELEGRAM_API).rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


def listed_role(settings: Settings, user: User | None) -> Role | None:
    """The role a user has wherever they write (listed by id), without the store; None: not listed."""
    if user is None:
        return Role.STRANGER
    if user.id in settings.telegram_operators:
        return Role.OPERATOR
    if user.id in settings.telegram_subscribers:
        return Role.SUBSCRIBER
    return None


def caller_role(settings: Settings, service: OperatorService, user: User | None, chat: Chat | None) -> Role:
    """Operators and listed subscribers by user id; anyone in a group an operator subscribed may read there.
    Reads the store for a group's subscription (call it off the event loop)."""
    role = listed_role(settings, user)
    if role is not None:
        return role
    if chat is not None and chat.type != ChatType.PRIVATE:
        subscription = service.subscription(chat.id)
        if subscription is not None and subscription.made_by(f"{CHANNEL}:{u}" for u in settings.telegram_operators):
            return Role.READER
    return Role.STRANGER


class TelegramHandlers:
    """The handlers run on the event loop and only parse, wait and enqueue: every store call (the caller's role
    in a group, the command, its answer and log row, the alerts it raised) runs in a worker thread and is
    tried again while the store is busy (bot/store_calls.py), so a command is never lost to a held store.
    Per chat, updates complete in the order they came (bot/chat_order.py)."""

    def __init__(self, settings: Settings, service: OperatorService, outbox: Outbox, wake: Callable[[], None],
                 alerts: ChatAlerts, store: StoreCalls) -> None:
        self.settings = settings
        self.service = service
        self.alerts = alerts
        self.store = store
        self.actions = Actions(service, account_in_groups=settings.account_in_groups)
        self.writer = ReplyWriter(outbox, store)
        self.wake = wake
        self.refusals = RefusalLimit(settings.telegram_refusal_interval_seconds)
        # Chats are handled side by side (PerChatOrder), so a burst of /status does not queue behind one
        # slow /approve; operator commands that change something still take turns across chats, in arrival
        # order. Reads, reader commands and refusals never wait for that turn.
        self._turn = asyncio.Lock()

    async def _caller(self, update: Update) -> Caller:
        user, chat = update.effective_user, update.effective_chat
        group = chat is not None and chat.type != ChatType.PRIVATE
        role = listed_role(self.settings, user)
        if role is None:
            role = Role.STRANGER
            if group:  # whether an operator subscribed this group: a read of the store
                role = await self.store.until_done(f"the role of user {user.id if user else None} in chat "
                                                   f"{chat.id if chat else None}", caller_role, self.settings,
                                                   self.service, user, chat)
        return Caller(CHANNEL, user.id if user else None, chat.id if chat else None, role, group)

    async def _run(self, caller: Caller, what: str, takes_turn: bool, fn: Callable[..., Any], *args: Any) -> Any:
        """One step of a command in a worker thread, retried while the store is busy; in turn if it must be."""
        if not takes_turn:
            return await self.store.until_done(what, fn, *args)
        async with self._turn:
            return await self.store.until_done(what, fn, *args)

    def _quiet(self, caller: Caller, reply: Reply) -> bool:
        """A stranger refused again within the interval: logged, not answered (a flood of strangers must
        neither fill the outbox nor spend Telegram's rate limit)."""
        return (reply.outcome == "REFUSED" and caller.role is Role.STRANGER
                and not self.refusals.allow(caller.user_id, time.monotonic()))

    async def _answer(self, update: Update, reply: Reply, record: CommandRecord | None, received: float, what: str,
                      applied: bool, extra: tuple[Envelope, ...] = ()) -> None:
        chat = update.effective_chat
        kind = REFUSAL if reply.outcome == "REFUSED" else "reply"
        note_after = self.settings.chat_store_note_seconds

        def render() -> list[Envelope]:  # at each try to store it: the answer says how long it waited
            waited = time.monotonic() - received
            doc = reply.doc if waited < note_after else docs.store_wait_doc(reply.doc, what, waited, applied)
            envelopes = list(extra)
            if chat is not None:
                key = f"reply:{update.update_id}"
                if reply.captioned_photo:
                    envelopes[0:0] = telegram_doc_photo_envelopes(doc, reply.captioned_photo, chat.id, key, kind)
                    return envelopes
                envelopes.insert(0, telegram_envelope(doc, chat.id, key, kind, reply.buttons))
                if reply.photo:
                    envelopes.insert(1, telegram_photo_envelope(reply.photo, reply.photo_caption, chat.id,
                                                                f"{key}:photo"))
            return envelopes

        await self.writer.write(render, record)
        self.wake()

    async def _release(self, held: list[Any]) -> None:
        if held:
            await self.store.until_done("alerts raised by a command", self.alerts.release, held)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received = time.monotonic()
        message = update.effective_message
        if message is None or not message.text:
            return
        words = message.text.split()
        name, _, target = words[0][1:].partition("@")
        if target and target.lower() != (context.bot.username or "").lower():
            return  # "/status@SomeOtherBot" in a group is not for us
        name, caller = name.lower(), await self._caller(update)
        what = f"/{name[:32]}"
        with self.alerts.held() as held:  # a fill raised by /approve is told after its "Done"
            reply, record = await self._run(caller, f"{what} from {caller.actor}", self.actions.takes_turn(caller, name),
                                            self.actions.handle, caller, name, words[1:])
        if self._quiet(caller, reply):
            await self.writer.write((), record)
        else:
            applied = record.outcome == "OK" and not self.actions.reads_only(name)
            await self._answer(update, reply, record, received, what, applied)
        await self._release(held)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received = time.monotonic()
        query = update.callback_query
        if query is None:
            return
        caller, data = await self._caller(update), query.data or ""
        what, turn = "your button press", self.actions.press_takes_turn(caller, data)
        with self.alerts.held() as held:
            step = await self._run(caller, f"a button press from {caller.actor}", turn, self.actions.resolve_press,
                                   caller, data)
            if isinstance(step, Invocation):  # a confirmation taken stays taken: only the command is retried
                reply, record = await self._run(caller, f"/{step.name} (button) from {caller.actor}", turn,
                                                self.actions.handle, caller, step.name, list(step.words), step.confirm)
                reply = replace(reply, settled=True) if step.confirm else reply
            else:
                reply, record = step
        if self._quiet(caller, reply):
            await self.writer.write((), record)
            await self._release(held)
            return
        try:  # the toast only stops the button's spinner; the answer itself goes through the outbox
            await query.answer(reply.doc.title[:190])
        except TelegramError as exc:
            log.info("could not answer a button press: %s", exc)
        message = query.message
        extra: tuple[Envelope, ...] = ()
        if reply.settled and message is not None and update.effective_chat is not None:
            chat_id = update.effective_chat.id
            extra = (remove_buttons_envelope(chat_id, message.message_id, f"unbutton:{message.message_id}"),)
        await self._answer(update, reply, record, received, what, record.outcome == "OK", extra=extra)
        await self._release(held)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling a Telegram update failed: %s", context.error, exc_info=context.error)


def command_menus(settings: Settings) -> list[tuple[BotCommandScope, list[BotCommand]]]:
    """Telegram's command menu per audience, from the command table: what readers may use for everyone,
    and in each listed person's private chat everything their role allows."""
    def menu(role: Role) -> list[BotCommand]:
        return [BotCommand(c.name, c.summary[:256]) for c in for_channel("chat", role)]

    menus: list[tuple[BotCommandScope, list[BotCommand]]] = [(BotCommandScopeDefault(), menu(Role.READER))]
    menus += [(BotCommandScopeChat(user), menu(Role.SUBSCRIBER)) for user in settings.telegram_subscribers
              if user not in settings.telegram_operators]
    menus += [(BotCommandScopeChat(user), menu(Role.OPERATOR)) for user in settings.telegram_operators]
    return menus


async def register_menus(application: TelegramApp, settings: Settings) -> None:
    """setMyCommands for every audience; a refusal is logged, the bot works without a menu."""
    for scope, commands in command_menus(settings):
        try:
            await application.bot.set_my_commands(commands, scope=scope)
        except TelegramError as exc:
            log.warning("could not set the Telegram command menu (%s): %s", scope.type, exc)


def build_application(settings: Settings, service: OperatorService, outbox: Outbox,
                      wake: Callable[[], None] = lambda: None, alerts: ChatAlerts | None = None,
                      store: StoreCalls | None = None) -> TelegramApp:
    """The configured Application (not started): handlers, rate limiter, timeouts, Bot API URL; `store` runs
    the handlers' store calls (bot/runtime.py passes its own and closes it when it stops)."""
    if settings.telegram_token is None:
        raise ValueError("TB_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    register_secrets([token])
    base, files = bot_api_urls(settings.telegram_base_url)
    timeout = settings.chat_timeout_seconds
    request = HTTPXRequest(connection_pool_size=16, connect_timeout=timeout, read_timeout=timeout,
                           write_timeout=timeout, pool_timeout=timeout)
    # The long poll holds its request open for telegram_poll_seconds; allow that on top.
    updates = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout + settings.telegram_poll_seconds,
                           write_timeout=timeout, pool_timeout=timeout)
    store = store or StoreCalls()
    application = (
        Application.builder().token(token).base_url(base).base_file_url(files)
        .request(request).get_updates_request(updates)
        # max_retries=0: a flood wait comes back to the outbox, which keeps the message and waits.
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_messages_per_second, max_retries=0))
        .concurrent_updates(PerChatOrder())  # chats side by side, each chat's updates in order
        .job_queue(None)  # scheduling is the caller's (serve's) business, not a second scheduler in here
        .build()
    )
    alerts = alerts or ChatAlerts(Audience.from_settings(settings), outbox, wake)
    handlers = TelegramHandlers(settings, service, outbox, wake, alerts, store)
    # One handler for every command, known or not: an unknown one gets an answer (and a log line) too.
    application.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, handlers.on_command))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_error_handler(handlers.on_error)
    return application
