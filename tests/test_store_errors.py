"""A busy, read-only or unreachable store is one plain line from any command (issue 13, finding 9),
and TB_LOG_FORMAT=json is honoured by every command, not only serve.

The lock is real: a second process holds `BEGIN EXCLUSIVE` on the SQLite file while the command
runs; the read-only store is opened through SQLite's own read-only mode.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from storage.db import StoreBusy, StoreUnavailable, open_store
from storage.models import StateRow
from tests.conftest import REPO
from tests.trading_fixtures import add_proposal

HOLD = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


@contextmanager
def held(path: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the store's write lock for `seconds` (or until the block ends)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "tb.db"
    add_proposal(open_store(f"sqlite:///{path}"), created_at=datetime.now(timezone.utc), quantity=0.5)
    return path


def _command(url: str, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TB_DATABASE_URL": url, **env}
    return subprocess.run([sys.executable, "tracer_bullet.py", *argv], cwd=REPO, env=environ, capture_output=True,
                          text=True, timeout=120)


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr and "sqlalchemy" not in done.stderr.lower(), done.stderr
    return lines[0]


@pytest.mark.parametrize("argv", [["approve", "1"], ["pause"], pytest.param(["reject", "1"], marks=pytest.mark.slow)])
def test_a_command_on_a_store_another_process_holds_says_so_in_one_line(store: Path, argv: list[str]) -> None:
    with held(store, 60):
        done = _command(f"sqlite:///{store}", *argv)
    assert done.returncode == 2
    line = _one_line(done)
    assert "is busy" in line and "try again" in line and str(store) in line


@pytest.mark.slow
def test_once_the_lock_is_gone_the_same_command_works(store: Path) -> None:
    with held(store, 60):
        assert _command(f"sqlite:///{store}", "pause").returncode == 2
    done = _command(f"sqlite:///{store}", "pause")
    assert done.returncode == 0 and "halted" in done.stdout.lower()


@pytest.mark.parametrize("argv", [["approve", "1"], pytest.param(["pause"], marks=pytest.mark.slow), ["run", "--once"]])
def test_a_read_only_store_says_so_in_one_line(store: Path, tmp_path: Path, argv: list[str]) -> None:
    url = f"sqlite:///file:{store}?mode=ro&uri=true"
    done = _command(url, *argv, TB_SENTIMENT_BACKEND="embedded", TB_ARTIFACTS_DIR=str(tmp_path / "artifacts"))
    assert done.returncode == 2
    line = _one_line(done)
    assert "cannot be used" in line and "readonly" in line


def test_the_store_raises_its_own_errors_in_process(store: Path) -> None:
    sessions = open_store(f"sqlite:///{store}")
    with held(store, 60):
        started = time.monotonic()
        with pytest.raises(StoreBusy) as busy:
            with sessions.begin() as session:
                session.add(StateRow(key="x", value="y", updated_at=datetime.now(timezone.utc), updated_by="test"))
        assert time.monotonic() - started >= 4  # SQLite's busy wait ran out first
    assert busy.value.__cause__ is not None  # the driver's own error stays chained for the log
    with pytest.raises(StoreUnavailable):
        read_only = open_store(f"sqlite:///file:{store}?mode=ro&uri=true")
        with read_only.begin() as session:
            session.add(StateRow(key="x", value="y", updated_at=datetime.now(timezone.utc), updated_by="test"))


def test_an_unreachable_server_store_is_one_line() -> None:
    done = _command("postgresql+psycopg://tb:pw-Secret-1@127.0.0.1:9/tb", "status")
    assert done.returncode == 2
    line = _one_line(done)
    assert "127.0.0.1:9" in line and "pw-Secret-1" not in line


def test_json_logs_from_every_command_when_asked(store: Path) -> None:
    done = _command(f"sqlite:///{store}", "positions", TB_LOG_FORMAT="json", TB_ALPACA_KEY="k", TB_ALPACA_SECRET="s",
                    TB_ALPACA_TRADING_URL="http://127.0.0.1:9", TB_BROKER_TIMEOUT_SECONDS="1")
    assert done.returncode == 0
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert any(r["level"] == "warning" and r["logger"] == "trading.desk" for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
