"""A loopback HTTP server for feeds (aiohttp.web on 127.0.0.1 in a thread of its own), with the
behaviours real feed servers have: ETag and Last-Modified with 304 answers, redirects, slow answers,
errors, bodies with or without Content-Length. Also the thread harness for the fake Alpaca data API.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackServer:
    """Runs one aiohttp handler for every path on 127.0.0.1:<free port>."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> "LoopbackServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class OnLoopback:
    """start, stop and url for a fake that answers through the LoopbackServer in `self._server`."""

    _server: LoopbackServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        """Idempotent: a test may take the server down before the fixture does."""
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the headers go out
    redirect_to: str | None = None  # a path on this server, answered with 301
    send_length: bool = True  # False: chunked, no Content-Length (the size is only known while reading)


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, request headers)

    def __post_init__(self) -> None:
        self._server = LoopbackServer(self._handle)
        self._lock = threading.Lock()

    def start(self) -> "FeedServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def url(self, path: str) -> str:
        return self._server.url + path

    def requests_to(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [headers for seen, headers in self.seen if seen == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.seen.append((request.path, dict(request.headers)))
            route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such feed")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.redirect_to is not None:
            raise web.HTTPMovedPermanently(location=self.url(route.redirect_to))
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        unchanged = (route.etag and request.headers.get("If-None-Match") == route.etag) or (
            route.last_modified and request.headers.get("If-Modified-Since") == route.last_modified)
        if unchanged and route.status == 200:
            return web.Response(status=304, headers=headers)
        if route.send_length:
            return web.Response(status=route.status, body=route.body, headers=headers)
        response = web.StreamResponse(status=route.status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(route.body), 64 * 1024):
            await response.write(route.body[start:start + 64 * 1024])
        await response.write_eof()
        return response
