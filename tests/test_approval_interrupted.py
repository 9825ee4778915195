"""An approval whose process died before its order was written is found, not called "already approved"
(issue 13, finding 6).

A real `approve` process is killed with SIGKILL right after the approval's commit: the harness
below watches the store's commits and kills its own process the moment the proposal reads
"approved" with no order row, so nothing of ours decides the outcome. Then `approve` again sends
it through the guards to the fake Alpaca, and `reconcile` reports it rather than saying clean.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import REPO
from tests.fake_alpaca import KEY, SECRET, FakeAlpaca
from tests.trading_fixtures import Clock, add_proposal, make_world, proposal_status
from storage.db import open_store
from trading.factory import build_broker

# Runs `tracer_bullet.py approve ID` and dies (SIGKILL, no cleanup) right after the commit that
# approved proposal ID, before anything else: the exact step of the finding.
KILL_AFTER_APPROVAL = """
import os, signal, sqlite3, sys
from sqlalchemy import event
from sqlalchemy.orm import Session

path, proposal_id = sys.argv[1], int(sys.argv[2])

def after_commit(_session):
    with sqlite3.connect(path) as probe:
        status = probe.execute("SELECT status FROM proposals WHERE id = ?", (proposal_id,)).fetchone()[0]
        orders = probe.execute("SELECT count(*) FROM orders WHERE proposal_id = ?", (proposal_id,)).fetchone()[0]
    if status == "approved" and orders == 0:
        print("killed after the approval", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

event.listen(Session, "after_commit", after_commit)
import tracer_bullet
sys.exit(tracer_bullet.main(["approve", str(proposal_id)]))
"""


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    server = FakeAlpaca({"ETH/USD": 3000.0}).start()
    yield server
    server.stop()


@pytest.fixture
def killed(tmp_path: Path, fake: FakeAlpaca) -> tuple[Path, int, dict[str, str]]:
    """A store with one proposal whose `approve` was killed between the approval and its order."""
    path = tmp_path / "tb.db"
    now = datetime.now(timezone.utc)
    pid = add_proposal(open_store(f"sqlite:///{path}"), created_at=now, as_of=now - timedelta(minutes=5),
                       quantity=0.5, price=3000.0)
    env = {**os.environ, "TB_DATABASE_URL": f"sqlite:///{path}", "TB_ALPACA_KEY": KEY, "TB_ALPACA_SECRET": SECRET,
           "TB_ALPACA_TRADING_URL": fake.url, "TB_BROKER_TIMEOUT_SECONDS": "5"}
    done = subprocess.run([sys.executable, "-c", KILL_AFTER_APPROVAL, str(path), str(pid)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL and "killed after the approval" in done.stdout, done.stderr
    assert proposal_status(open_store(f"sqlite:///{path}"), pid) == "approved" and fake.order_posts() == 0
    return path, pid, env


def _shell(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "tracer_bullet.py", *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_approve_again_sends_what_the_killed_approval_never_sent(killed, fake: FakeAlpaca) -> None:
    path, pid, env = killed
    done = _shell(env, "approve", str(pid))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "never sent" in done.stdout and "sent now" in done.stdout and "Nothing was sent again" not in done.stdout
    assert fake.order_posts() == 1 and proposal_status(open_store(f"sqlite:///{path}"), pid) == "filled"
    again = _shell(env, "approve", str(pid))  # and now it is what it says: approved, and sent once
    assert again.returncode == 0 and "Nothing was sent again" in again.stdout and fake.order_posts() == 1


def test_reconcile_reports_the_approval_without_an_order(killed, fake: FakeAlpaca) -> None:
    path, pid, _ = killed
    url = f"sqlite:///{path}"
    clock = Clock(datetime.now(timezone.utc) + timedelta(minutes=1))  # past the grace an approval in flight gets
    overrides = dict(alpaca_key=KEY, alpaca_secret=SECRET, alpaca_trading_url=fake.url, broker_timeout_seconds=5.0)
    world = make_world(url, clock, lambda sessions, c: build_broker(world_settings(url, overrides), sessions, c),
                       **overrides)
    report = world.service.reconcile()
    [note] = [d for d in report.differences if f"Proposal #{pid}" in d]
    assert "never written" in note and "nothing reached the broker" in note and f"approve {pid}" in note
    assert [a.kind for a in world.notifier.alerts] == ["reconciliation"]
    assert fake.order_posts() == 0  # reconciliation reports; it never submits
    world.service.trading_tick()  # serve's tick is what sends it without an operator
    assert fake.order_posts() == 1 and proposal_status(world.sessions, pid) == "filled"
    assert not [d for d in world.service.reconcile().differences if f"Proposal #{pid}" in d]


def world_settings(url: str, overrides: dict) -> object:
    from tests.trading_fixtures import settings

    return settings(url, **overrides)
