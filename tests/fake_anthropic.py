"""A loopback fake of Anthropic's Messages API (POST /v1/messages), for the real anthropic client.

Answers in the API's shapes: a `message` object with text content blocks, and errors as
{"type": "error", "error": {"type": ..., "message": ...}} with the API's status codes. The default
rater reads each headline of the request and rates it by a few plain words, so the answer depends
on the request. Faults are queued and used one request at a time: an HTTP status, a slow answer,
a reply that breaks the schema or is not JSON. Error messages echo the API key the request carried,
so a test can prove the client side never repeats them.
"""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from tests.feed_server import LoopbackServer, OnLoopback

KEY = "sk-ant-test-Q7fZ2xLp9WmK4rT8"
GOOD = ("soar", "surge", "rall", "gain", "record", "approv", "inflow", "jump", "rises", "rose", "launch", "win")
BAD = ("plunge", "hack", "fall", "drop", "sink", "tumble", "lawsuit", "outflow", "slide", "crash", "sentenced", "loss")
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
               500: "api_error", 503: "api_error", 529: "overloaded_error"}


def keyword_rater(headline: str) -> dict[str, Any]:
    text = headline.lower()
    score = 0.7 * any(w in text for w in GOOD) - 0.7 * any(w in text for w in BAD)
    label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return {"label": label, "polarity": round(score, 2)}


@dataclass
class Fault:
    status: int = 200  # not 200: an API error with this status
    delay: float = 0.0  # seconds before answering: a timeout when longer than the client waits
    text: str | None = None  # 200 with this as the one text block (malformed JSON, wrong shape)
    reply: Any = None  # 200 with this object, serialised, as the one text block
    edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # 200 with the correct reply, then edited
    stop_reason: str = "end_turn"
    blocks: int = 1  # how many text blocks carry the reply
    raw_body: bytes | None = None  # 200 with this HTTP body as it is (not a message at all)


@dataclass
class FakeMessagesApi(OnLoopback):
    rater: Callable[[str], dict[str, Any]] = keyword_rater
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # request bodies, in order
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = LoopbackServer(self._dispatch)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def stop(self) -> None:
        # Slow answers still waiting finish first, so no handler is torn down mid-sleep.
        self._stopping.set()
        self._server.stop()

    def headlines_asked(self) -> list[str]:
        with self._lock:
            return [item["headline"] for body in self.requests for item in json.loads(body["messages"][0]["content"])]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else {}
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            fault = self.faults.pop(0) if self.faults else Fault()
        # SDK versions differ: older ones send x-api-key, newer ones "Authorization: Bearer <key>".
        bearer = request.headers.get("Authorization", "")
        key = request.headers.get("x-api-key") or (bearer[len("Bearer "):] if bearer.startswith("Bearer ") else "")
        if request.method != "POST" or request.path != "/v1/messages":
            return _error(404, f"no route {request.method} {request.path}")
        if key != KEY:
            return _error(401, f"invalid API key {key}")
        waited = 0.0
        while waited < fault.delay and not self._stopping.is_set():
            await asyncio.sleep(0.02)
            waited += 0.02
        if fault.status != 200:
            return _error(fault.status, f"fault injected for key {key}")
        if fault.raw_body is not None:
            return web.Response(body=fault.raw_body, content_type="application/json")
        return web.json_response(self._message(body, fault))

    def _message(self, body: dict[str, Any], fault: Fault) -> dict[str, Any]:
        if fault.text is not None:
            text = fault.text
        else:
            reply = fault.reply
            if reply is None:
                asked = json.loads(body["messages"][0]["content"])
                reply = {"items": [{"id": item["id"], **self.rater(item["headline"])} for item in asked]}
                if fault.edit is not None:
                    reply = fault.edit(reply)
            text = json.dumps(reply)
        return {
            "id": "msg_fake01", "type": "message", "role": "assistant", "model": body.get("model", "?"),
            "content": [{"type": "text", "text": text} for _ in range(fault.blocks)],
            "stop_reason": fault.stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 50},
        }


def _error(status: int, message: str) -> web.Response:
    kind = ERROR_TYPES.get(status, "api_error")
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status)
