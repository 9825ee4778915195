"""The outside world for `serve` run as a real process: the embedded snapshot moved to the present and
served on 127.0.0.1 (feeds, Alpaca market data, Alpaca trading), and the process itself with its logs."""
from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable

from providers.bars import EmbeddedMarketData
from providers.feeds import EMBEDDED_FEEDS_DIR, SOURCE_NAMES
from tests.conftest import REPO
from tests.snapshot_fixtures import feed_until

SNAPSHOT_HOUR = datetime(2025, 12, 13, 10, tzinfo=timezone.utc)  # the snapshot's newest headline is 10:14
# The embedded coins: Alpaca serves them as "BTC/USD" around the clock (the stocks keep their sessions).
CRYPTO = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB")
_PUB_DATE = re.compile(rb"<pubDate>([^<]+)</pubDate>")


def present_shift(now: datetime, newest: datetime = SNAPSHOT_HOUR) -> timedelta:
    """Whole hours that put the snapshot's newest headline (`newest`) about two hours before `now`."""
    hour = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return hour - timedelta(hours=2) - newest.replace(minute=0, second=0, microsecond=0)


def shifted_feed(body: bytes, shift: timedelta) -> bytes:
    def move(match: re.Match[bytes]) -> bytes:
        stamp = parsedate_to_datetime(match.group(1).decode()).astimezone(timezone.utc) + shift
        return b"<pubDate>" + format_datetime(stamp).encode() + b"</pubDate>"

    return _PUB_DATE.sub(move, body)


@dataclass(frozen=True)
class PresentMarket:
    """The snapshot's feeds and bars with every time moved by `shift`; prices by Alpaca symbol."""

    feeds: dict[str, bytes]  # by URL path
    names: dict[str, str]  # feed name -> URL path
    bars: dict[str, list[Any]]  # by Alpaca symbol ("BTC/USD"), up to `until`
    prices: dict[str, float]

    @staticmethod
    def at(now: datetime, cutoff: datetime | None = None) -> "PresentMarket":
        """The crypto snapshot moved to `now`. With `cutoff`, the market as it stood then: the news published
        by then (its feeds cut as tests/snapshot_fixtures.py cuts them) and the bars closed by then, moved
        by whole hours so that the cut falls 10 to 70 minutes before `now`."""
        if cutoff is None:
            shift, last_close = present_shift(now), now
        else:
            shift = timedelta(hours=math.floor((now - timedelta(minutes=10) - cutoff) / timedelta(hours=1)))
            last_close = cutoff + shift
        feeds, names = {}, {}
        for path in sorted(EMBEDDED_FEEDS_DIR.glob("*.rss")):
            text = path.read_text(encoding="utf-8")
            kept = text if cutoff is None else feed_until(text, cutoff)
            if kept is None:
                continue
            feeds[f"/{path.stem}"] = shifted_feed(kept.encode("utf-8"), shift)
            names[SOURCE_NAMES[path.name]] = f"/{path.stem}"
        market = EmbeddedMarketData()
        bars, prices = {}, {}
        for symbol in CRYPTO:
            snapshot = market.bars_until(symbol, datetime(2026, 1, 1, tzinfo=timezone.utc)).bars
            series = [replace(b, start=b.start + shift) for b in snapshot]
            closed = [b for b in series if b.start + timedelta(hours=1) <= last_close]
            bars[f"{symbol}/USD"] = closed
            prices[f"{symbol}/USD"] = closed[-1].close
        return PresentMarket(feeds, names, bars, prices)


@dataclass
class ServeProcess:
    """`python tracer_bullet.py serve` with JSON logs to a file; the test reads them as they come."""

    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    _offset: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)

    async def start(self) -> "ServeProcess":
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_OFFLINE": "1", "TB_LOG_FORMAT": "json",
               **self.env}
        self.log = self.log_path.open("ab")
        self._offset = self.log_path.stat().st_size  # an earlier process's lines are not this one's
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(REPO / "tracer_bullet.py"), "serve", cwd=self.cwd, env=env,
            stdout=self.log, stderr=self.log)
        return self

    def read(self) -> list[dict[str, Any]]:
        with self.log_path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for raw in complete.splitlines():
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                self.lines.append({"level": "raw", "message": raw.decode(errors="replace")})
        return self.lines

    def messages(self) -> list[str]:
        return [line.get("message", "") for line in self.read()]

    async def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"serve exited ({self.process.returncode}) before {what}:\n" + self.tail())
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + self.tail())
            await asyncio.sleep(0.1)

    async def wait_log(self, text: str, timeout: float = 30.0) -> None:
        await self.wait_for(lambda: any(text in m for m in self.messages()), timeout, repr(text))

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        self.log.close()
        return code

    async def kill(self) -> None:
        """Cleanup after a failed test: the process must not outlive the fakes it talks to."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if not self.log.closed:
            self.log.close()

    def tail(self, count: int = 40) -> str:
        return "\n".join(json.dumps(line) for line in self.read()[-count:])
