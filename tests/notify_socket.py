"""systemd's side of sd_notify for tests: a unix datagram socket that collects what `serve` tells it."""
from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Message:
    at: float  # time.monotonic() when it arrived
    fields: dict[str, str]


@dataclass
class NotifySocket:
    """Bound at a short path (sun_path holds 108 bytes) or, with abstract=True, in the abstract namespace."""

    abstract: bool = False
    messages: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if self.abstract:
            self.name = f"@tracer-bullet-test-{secrets.token_hex(6)}"
            self.sock.bind(b"\0" + self.name[1:].encode())
        else:
            self._dir = tempfile.mkdtemp(prefix="tb-notify-", dir="/tmp")
            self.name = str(Path(self._dir) / "notify.sock")
            self.sock.bind(self.name)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            pairs = (line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(Message(time.monotonic(), {k: v for k, v in pairs}))

    def with_key(self, key: str) -> list[Message]:
        return [m for m in list(self.messages) if key in m.fields]

    def wait_for(self, key: str, timeout: float = 30.0, count: int = 1) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.with_key(key)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {key} within {timeout} s; got {[m.fields for m in self.messages]}")
            time.sleep(0.05)
        return self.with_key(key)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
        if not self.abstract:
            with_path = Path(self.name)
            if with_path.exists():
                os.unlink(with_path)
            os.rmdir(self._dir)
