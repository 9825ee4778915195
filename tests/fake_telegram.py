"""A fake Telegram Bot API on 127.0.0.1 (aiohttp.web) for the real python-telegram-bot client.

It keeps what a test needs to see (updates waiting, messages sent, edits, callback answers) and
enforces what Telegram enforces on messages (well-formed HTML, at most 4096 characters of text, a
known token), and can misbehave on request: 5xx, hanging requests, 429 with retry_after, blocked chats.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>|&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);|([<>&])|[^<>&]+", re.S)


class HtmlError(ValueError):
    pass


def parse_html(text: str) -> str:
    """The visible text of Telegram-style HTML, or HtmlError the way Telegram refuses it."""
    out, stack = [], []
    for m in _TOKEN.finditer(text):
        if m.group(4):
            raise HtmlError(f"Can't parse entities: unexpected {m.group(4)!r}")
        if m.group(2):
            name = m.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise HtmlError(f"Can't parse entities: unsupported start tag \"{name}\"")
            if m.group(1):
                if not stack or stack.pop() != name:
                    raise HtmlError(f"Can't parse entities: unexpected end tag \"{name}\"")
            else:
                stack.append(name)
        elif m.group(3):
            out.append(html.unescape(m.group(0)))
        else:
            out.append(m.group(0))
    if stack:
        raise HtmlError(f"Can't parse entities: unclosed start tag \"{stack[-1]}\"")
    return "".join(out)


def _flag(params: dict[str, Any], name: str) -> bool:
    """A Boolean parameter as the Bot API reads it: JSON true, or "true" in a form."""
    value = params.get(name)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Fault:
    status: int = 502
    retry_after: int | None = None
    hang: float = 0.0  # sleep this long first (longer than the client's timeout: a timeout)
    late: float = 0.0  # do what was asked, then answer this late (Telegram accepted it; the answer is slow)


@dataclass
class Sent:
    chat_id: int
    text: str  # visible text, as Telegram stores it
    html: str
    keyboard: list[list[dict[str, str]]] | None
    message_id: int
    at: float  # time.monotonic()
    photo: bytes | None = None
    silent: bool = False  # sent with disable_notification=true (no sound on the phone)


@dataclass
class FakeTelegram:
    token: str
    username: str = "tracer_test_bot"
    bot_id: int = 999000
    sent: list[Sent] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, float]] = field(default_factory=list)  # (method, monotonic time), faults included
    blocked: set[int] = field(default_factory=set)
    menus: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # setMyCommands by scope ("default", "chat:<id>")

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._faults: dict[str, list[Fault | None]] = {}
        self._outage: tuple[Fault, set[str]] | None = None
        self._new_update = asyncio.Event()
        self._sent_changed = asyncio.Event()
        self.confirmed_offset = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle ---

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # release a long poll still waiting, so shutdown does not wait it out
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what a test does ---

    def fail(self, method: str, times: int = 1, after: int = 0, **fault: Any) -> None:
        """The next `times` calls to `method` fail, after `after` calls that succeed."""
        queue = self._faults.setdefault(method, [])
        queue.extend([None] * after + [Fault(**fault) for _ in range(times)])

    def outage(self, methods: set[str] | None = None, **fault: Any) -> None:
        """Every call to `methods` (default: everything but getUpdates) fails until `recover()`."""
        self._outage = (Fault(**fault), methods or set())

    def recover(self) -> None:
        self._outage = None

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"user{chat_id}"
        else:
            chat["title"] = f"group {chat_id}"
        return chat

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def command(self, user_id: int, text: str, chat_id: int | None = None, chat_type: str = "private") -> int:
        """A message `text` (starting with /command) from `user_id`, in their private chat unless `chat_id`."""
        chat = self._chat(chat_id if chat_id is not None else user_id, chat_type)
        word = text.split()[0]
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": self._user(user_id), "text": text,
                   "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}] if word.startswith("/") else []}
        return self._push({"message": message})

    def press(self, user_id: int, message: Sent, data: str, chat_type: str = "private") -> int:
        """`user_id` presses the button with `data` under the message `message`."""
        shown = {"message_id": message.message_id, "date": int(time.time()), "chat": self._chat(message.chat_id, chat_type),
                 "from": {"id": self.bot_id, "is_bot": True, "first_name": "Tracer"}, "text": message.text}
        query = {"id": f"cq{next(self._message_ids)}", "from": self._user(user_id), "chat_instance": "ci",
                 "data": data, "message": shown}
        return self._push({"callback_query": query})

    def to(self, chat_id: int) -> list[Sent]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; sent so far: {[(m.chat_id, m.text[:60]) for m in self.sent]}")
            self._sent_changed.clear()
            try:
                await asyncio.wait_for(self._sent_changed.wait(), min(remaining, 0.05))
            except asyncio.TimeoutError:
                pass

    @property
    def pending_updates(self) -> int:
        return len([u for u in self._updates if u["update_id"] >= self.confirmed_offset])

    # --- the Bot API ---

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):  # an upload (sendPhoto): keep the bytes
                params[key] = value.file.read()
                continue
            text = str(value)
            try:
                params[key] = json.loads(text) if text[:1] in "[{" else text
            except ValueError:
                params[key] = text
        return params

    @staticmethod
    def _error(status: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    def _next_fault(self, method: str) -> Fault | None:
        if self._outage is not None and (method in self._outage[1] or (not self._outage[1] and method != "getUpdates")):
            return self._outage[0]
        if self._faults.get(method):
            return self._faults[method].pop(0)
        return None

    async def _fault(self, fault: Fault | None) -> web.Response | None:
        if fault is None or fault.late:
            return None
        if fault.hang:
            await asyncio.sleep(fault.hang)
        if fault.retry_after is not None:
            return self._error(429, f"Too Many Requests: retry after {fault.retry_after}", retry_after=fault.retry_after)
        return self._error(fault.status, "Internal Server Error" if fault.status >= 500 else "Error")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append((method, time.monotonic()))
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        fault = self._next_fault(method)
        failure = await self._fault(fault)
        if failure is not None:
            return failure
        params = await self._params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except HtmlError as exc:
            return self._error(400, f"Bad Request: {exc}")
        if fault is not None and fault.late:
            await asyncio.sleep(fault.late)  # done; only the answer is slow (a client that gave up never reads it)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Tracer", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed_offset = offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
            if ready or time.monotonic() >= deadline or self._closing:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                pass

    def _message(self, chat_id: int, text: str) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(chat_id, "private" if chat_id > 0 else "group"),
                "from": {"id": self.bot_id, "is_bot": True, "first_name": "Tracer"}, "text": text}

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        raw = str(params.get("text", ""))
        text = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        message = self._message(chat_id, text)
        self.sent.append(Sent(chat_id, text, raw, markup.get("inline_keyboard") if markup else None,
                              message["message_id"], time.monotonic(), silent=_flag(params, "disable_notification")))
        self._sent_changed.set()
        return message

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo.startswith(b"\x89PNG"):
            return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raw = str(params.get("caption", ""))
        caption = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if utf16_len(caption) > 1024:
            return self._error(400, "Bad Request: message caption is too long")
        message = self._message(chat_id, caption)
        self.sent.append(Sent(chat_id, caption, raw, None, message["message_id"], time.monotonic(), photo,
                              _flag(params, "disable_notification")))
        self._sent_changed.set()
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        self.edits.append({**params, "chat_id": int(params["chat_id"]), "message_id": int(params["message_id"])})
        self._sent_changed.set()
        return self._message(int(params["chat_id"]), "edited")

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answers.append(params)
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        """As the Bot API checks them: 1-100 commands, names of 1-32 lowercase letters, digits and underscores,
        descriptions of 1-256 characters; the scope says whose menu it is."""
        commands = params.get("commands")
        if not isinstance(commands, list) or not 0 < len(commands) <= 100:
            return self._error(400, "Bad Request: commands must be a non-empty list of at most 100")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 0 < len(description) <= 256:
                return self._error(400, f"Bad Request: BOT_COMMAND_INVALID ({name!r})")
        scope = params.get("scope") or {"type": "default"}
        key = f"chat:{int(scope['chat_id'])}" if scope.get("type") == "chat" else str(scope.get("type"))
        self.menus[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True
