"""How long a process holds the store's write lock: each transaction from its first write statement
(where SQLite takes the lock) to its commit or rollback, timed through SQLAlchemy's engine events."""
from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteLockWatch:
    def __init__(self, engine: Engine) -> None:
        self.holds: list[float] = []  # seconds, one per transaction that wrote
        self._started: dict[int, float] = {}
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    @property
    def longest(self) -> float:
        with self._lock:
            return max(self.holds, default=0.0)

    def _statement(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            with self._lock:
                self._started.setdefault(id(connection), time.perf_counter())

    def _end(self, connection: Any) -> None:
        with self._lock:
            began = self._started.pop(id(connection), None)
            if began is not None:
                self.holds.append(time.perf_counter() - began)
