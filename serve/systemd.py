"""sd_notify for `serve` run by systemd with `Type=notify` (deploy/tracer-bullet.service).

systemd names a unix datagram socket in NOTIFY_SOCKET (a path, or '@name' for the abstract
namespace) and, with `WatchdogSec=`, the deadline in WATCHDOG_USEC. `serve` tells it:
READY=1 once it holds the trader lease and its bot and scheduler run; WATCHDOG=1 every half
deadline while the event loop turns and the lease is still ours (a stuck loop, a lease not
renewed in time or a lost one goes quiet, and systemd restarts the process); STOPPING=1 when a
signal stops it; STATUS= lines that `systemctl status` shows (standing by, trading). A standby
that has not been READY yet asks for more start time (EXTEND_TIMEOUT_USEC) at each look at the
lease, so a live standby is not killed for taking long to start, and a hung one is.

Standard library only, and a no-op without NOTIFY_SOCKET. A message that cannot be sent is
logged once and dropped: systemd going away must not stop trading.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from typing import Callable, Mapping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watchdog:
    deadline_seconds: float

    @property
    def every(self) -> float:
        """How often to ping: half the deadline, as sd_watchdog_enabled(3) advises."""
        return self.deadline_seconds / 2


def socket_address(name: str) -> str | bytes:
    """NOTIFY_SOCKET as an AF_UNIX address: '@name' is the abstract namespace (a leading NUL byte)."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


def watchdog_from(environ: Mapping[str, str], pid: int) -> Watchdog | None:
    """The watchdog systemd asks of this process, if any (WATCHDOG_PID names another process: none)."""
    usec, owner = environ.get("WATCHDOG_USEC", "").strip(), environ.get("WATCHDOG_PID", "").strip()
    if not usec:
        return None
    if owner and owner != str(pid):
        return None
    try:
        value = int(usec)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds; no watchdog pings", usec)
        return None
    return Watchdog(value / 1_000_000) if value > 0 else None


class Notifier:
    """Sends sd_notify messages to `address`; every method does nothing when address is None."""

    def __init__(self, address: str | None, watchdog: Watchdog | None = None) -> None:
        self.address = address or None
        self.watchdog = watchdog if self.address else None
        self._warned = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Notifier":
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "").strip() or None
        return cls(address, watchdog_from(env, os.getpid()) if address else None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """One datagram of newline-separated KEY=VALUE lines; False when it could not be sent."""
        if self.address is None:
            return False
        message = "\n".join(line.replace("\n", " ") for line in lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message, socket_address(self.address))
        except OSError as exc:
            if not self._warned:  # once: a vanished socket would otherwise log every half deadline
                log.warning("could not notify systemd at NOTIFY_SOCKET=%s: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def standing_by(self, text: str, recheck_seconds: float) -> bool:
        """STATUS, and more start time than the next look at the lease needs (twice it, at least a minute)."""
        extend = max(2 * recheck_seconds, 60.0)
        return self.send(f"STATUS={text}", f"EXTEND_TIMEOUT_USEC={int(extend * 1_000_000)}")

    def stopping(self, status: str) -> bool:
        return self.send("STOPPING=1", f"STATUS={status}")

    async def keep_alive(self, healthy: Callable[[], bool], stop: asyncio.Event,
                         on_unhealthy: Callable[[], None] = lambda: None) -> None:
        """WATCHDOG=1 every half deadline while `healthy()`; none while it is not, until `stop`.

        Running on the event loop is the point: a loop blocked by a stuck callback sends nothing.
        A late lease renewal skips pings and a timely one resumes them; systemd restarts the process
        once none came for a whole deadline. `on_unhealthy` is called each time the pings stop.
        """
        if self.watchdog is None:
            return
        was_healthy = True
        while not stop.is_set():
            now_healthy = healthy()
            if now_healthy:
                self.send("WATCHDOG=1")
            elif was_healthy:
                on_unhealthy()
            was_healthy = now_healthy
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.watchdog.every)
