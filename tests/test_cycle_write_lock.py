"""A cycle never holds the store's write lock while it waits on Claude (issue 13, finding 1, cycle side).

With a slow Anthropic API (the fake, over HTTP, answering seconds late) another process writes the
store all through the cycle, each write allowed to wait two seconds for the lock; before the
change the cycle held one write transaction from storing headlines to the end, Claude included.
bench/cycle_write_lock.py measures the longest hold before and after.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from config import load_settings
from pipeline.cycle import run_once
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from storage.db import open_store
from tests.conftest import utc
from tests.fake_anthropic import KEY, FakeMessagesApi, Fault
from tests.write_lock import WriteLockWatch

NOW = utc(2026, 11, 21, 9, 0)
SLOW = 6.0  # seconds the first Claude request takes to answer

# Another process: takes the write lock (BEGIN IMMEDIATE) and lets it go, every 0.1 s, waiting at
# most 0.5 s for it; prints one line per attempt: ok, or the error and how long it waited.
WRITER = """
import sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
connection = sqlite3.connect(path, timeout=2.0, isolation_level=None)
print("ready", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    began = time.monotonic()
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("COMMIT")
        print("ok", flush=True)
    except sqlite3.OperationalError as exc:
        print(f"{exc} after {time.monotonic() - began:.2f} s", flush=True)
    time.sleep(0.1)
"""


@pytest.fixture
def api():
    fake = FakeMessagesApi().start()
    yield fake
    fake.stop()


def test_another_process_writes_the_store_while_the_cycle_waits_on_claude(tmp_path: Path, api, monkeypatch) -> None:
    path = tmp_path / "tb.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    settings = load_settings(database_url=url, anthropic_base_url=api.url, claude_timeout_seconds=20,
                             artifacts_dir=tmp_path / "artifacts")
    sessions = open_store(url)
    watch = WriteLockWatch(sessions.kw["bind"])
    backend = load_backend("embedded", "unused").backend
    api.faults.append(Fault(delay=SLOW))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "30"], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    attempts: list[str] = []
    reader = threading.Thread(target=lambda: attempts.extend(line.strip() for line in writer.stdout), daemon=True)
    reader.start()
    try:
        started = time.monotonic()
        report = run_once(settings, sessions, backend, (), EmbeddedMarketData(), NOW)
        took = time.monotonic() - started
    finally:
        writer.kill()
        writer.wait()
        reader.join(5)
    assert not report.digest.degraded and len(api.requests) >= 1 and took >= SLOW  # Claude answered, slowly
    assert len(attempts) >= SLOW / 0.6  # the other process kept trying through the slow answer
    assert all(a == "ok" for a in attempts), ([a for a in attempts if a != "ok"][:3], watch.holds)
    # No write transaction spans the slow answer: every hold is a fraction of it.
    assert watch.holds and watch.longest < SLOW / 2, watch.holds
