"""`serve` under systemd (Type=notify): READY=1 once it trades, WATCHDOG=1 while healthy, STOPPING=1 on a
signal, STATUS= while standing by; against a unix datagram socket the test opens, as systemd does."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from service.composition import utcnow
from config import load_settings
from serve.lease import TRADER, Lease
from serve.loop import ServeExit, serve
from serve.systemd import Notifier, Watchdog, socket_address, watchdog_from
from storage.db import open_store
from storage.serve_models import LeaseRow
from tests.notify_socket import NotifySocket
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401
from tests.serve_harness import ServeProcess

WATCHDOG_USEC = 400_000  # pings every 0.2 s


@pytest.fixture(params=[False, True], ids=["path", "abstract"])
def any_notify(request: pytest.FixtureRequest):
    sock = NotifySocket(abstract=request.param)
    yield sock
    sock.close()


@pytest.fixture
def notify():
    sock = NotifySocket()
    yield sock
    sock.close()


@pytest.fixture
def abstract_notify():
    sock = NotifySocket(abstract=True)
    yield sock
    sock.close()


def _settings(url: str, tmp: Path, **extra: object):
    values: dict[str, object] = dict(database_url=url, sentiment_backend="embedded", artifacts_dir=tmp / "artifacts",
                                     lease_seconds=30, cycle_seconds=3600, universe=["BTC"])
    return load_settings(**{**values, **extra})


# --- the notifier alone ---

def test_messages_reach_a_path_or_an_abstract_socket(any_notify: NotifySocket) -> None:
    notify = any_notify
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": notify.name})
    assert notifier.enabled and notifier.watchdog is None
    assert notifier.ready("trading as me") and notifier.stopping("bye")
    ready, stopping = notify.wait_for("READY")[0], notify.wait_for("STOPPING")[0]
    assert ready.fields == {"READY": "1", "STATUS": "trading as me"}
    assert stopping.fields == {"STOPPING": "1", "STATUS": "bye"}


def test_without_notify_socket_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier.from_environ({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog is None
    assert notifier.ready("x") is False and notifier.send("WATCHDOG=1") is False


def test_a_vanished_socket_is_logged_once_and_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert [notifier.send("WATCHDOG=1") for _ in range(3)] == [False, False, False]
    assert caplog.text.count("could not notify systemd") == 1


def test_the_watchdog_is_half_the_deadline_and_only_for_this_process() -> None:
    pid = os.getpid()
    assert watchdog_from({"WATCHDOG_USEC": "30000000"}, pid) == Watchdog(30.0)
    assert Watchdog(30.0).every == 15.0
    assert watchdog_from({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(pid)}, pid) == Watchdog(30.0)
    assert watchdog_from({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(pid + 1)}, pid) is None
    assert watchdog_from({"WATCHDOG_USEC": "0"}, pid) is None
    assert watchdog_from({}, pid) is None


def test_a_garbled_watchdog_setting_means_no_pings(caplog: pytest.LogCaptureFixture) -> None:
    assert watchdog_from({"WATCHDOG_USEC": "soon"}, os.getpid()) is None
    assert "WATCHDOG_USEC='soon' is not a number" in caplog.text


def test_abstract_names_get_a_leading_nul() -> None:
    assert socket_address("@tb") == b"\0tb" and socket_address("/run/systemd/notify") == "/run/systemd/notify"


def test_keep_alive_pings_only_while_healthy(notify: NotifySocket) -> None:
    # One look per half deadline, driven by the looks themselves (no timing): healthy four times, then not
    # three times, then again twice; the next look sets the stop.
    script = [True] * 4 + [False] * 3 + [True] * 2
    quiet: list[int] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        looks = iter(script)

        def healthy() -> bool:
            value = next(looks, None)
            if value is None:
                stop.set()
                return True
            return value

        notifier = Notifier(notify.name, Watchdog(0.02))
        await asyncio.wait_for(notifier.keep_alive(healthy, stop, lambda: quiet.append(1)), 30)

    asyncio.run(scenario())
    notify.wait_for("WATCHDOG", 5, count=6)
    time.sleep(0.1)
    assert len(notify.with_key("WATCHDOG")) == 6 + 1  # the healthy looks, and the one at the stop
    assert quiet == [1]  # told once when the pings stopped


# --- through serve ---

def test_serve_is_ready_pings_and_says_it_stops(database_url: str, tmp_path: Path, abstract_notify: NotifySocket,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    notify = abstract_notify
    monkeypatch.setenv("NOTIFY_SOCKET", notify.name)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    holders: list[str] = []

    async def scenario():
        task = asyncio.create_task(serve(_settings(database_url, tmp_path), utcnow, holders.append))
        for _ in range(600):
            await asyncio.sleep(0.05)
            if len(notify.with_key("WATCHDOG")) >= 3:
                break
        os.kill(os.getpid(), signal.SIGTERM)
        return await asyncio.wait_for(task, 30)

    result = asyncio.run(scenario())
    assert result.code is ServeExit.OK
    ready = notify.with_key("READY")
    assert len(ready) == 1 and ready[0].fields["STATUS"] == f"trading as {holders[0]}"
    pings = notify.with_key("WATCHDOG")
    assert len(pings) >= 3 and all(p.at >= ready[0].at for p in pings)  # no ping before it is ready
    # Paced at half the deadline, not sent in a burst (a busy machine only ever makes the gaps longer).
    gaps = sorted(b.at - a.at for a, b in zip(pings, pings[1:]))
    assert gaps[(len(gaps) - 1) // 2] > 0.1
    stopping = notify.with_key("STOPPING")
    assert len(stopping) == 1 and stopping[0].fields["STATUS"].startswith("stopping: finishing running jobs")


def test_a_lost_lease_stops_the_watchdog(database_url: str, tmp_path: Path, notify: NotifySocket,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify.name)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    sessions = open_store(database_url)

    async def scenario():
        task = asyncio.create_task(serve(_settings(database_url, tmp_path, standby="exit", lease_seconds=6), utcnow))
        while not notify.with_key("WATCHDOG"):
            await asyncio.sleep(0.05)
        with sessions.begin() as session:  # another process took it over (say, our renewals were lost)
            session.execute(update(LeaseRow).values(holder="usurper", expires_at=utcnow() + timedelta(minutes=5)))
        return await asyncio.wait_for(task, 30)

    assert asyncio.run(scenario()).code is ServeExit.LEASE_LOST
    lost = [m for m in notify.messages if m.fields.get("STATUS", "").startswith("lost the trader lease")]
    assert len(lost) == 1
    assert not [m for m in notify.with_key("WATCHDOG") if m.at > lost[0].at]  # quiet from then: systemd restarts it
    assert not notify.with_key("STOPPING")  # not a requested stop


def test_a_standby_says_so_and_asks_for_more_start_time(database_url: str, tmp_path: Path, notify: NotifySocket,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NOTIFY_SOCKET", notify.name)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    Lease(open_store(database_url), TRADER, "other-host:7:beef", timedelta(minutes=5), utcnow).acquire()

    async def scenario():
        task = asyncio.create_task(serve(_settings(database_url, tmp_path, lease_seconds=3), utcnow))
        await asyncio.to_thread(notify.wait_for, "STATUS", 30, 2)  # two looks at the lease, a second apart
        os.kill(os.getpid(), signal.SIGTERM)
        return await asyncio.wait_for(task, 30)

    assert asyncio.run(scenario()).code is ServeExit.OK
    looks = notify.with_key("STATUS")
    assert all(m.fields["STATUS"].startswith("standing by: the trader lease is held by other-host:7:beef") for m in looks)
    assert all(int(m.fields["EXTEND_TIMEOUT_USEC"]) >= 60_000_000 for m in looks)
    assert not notify.with_key("READY") and not notify.with_key("WATCHDOG")


@pytest.mark.slow  # a real process: start, a few pings, SIGTERM (about ten seconds)
def test_the_serve_command_notifies_systemd(tmp_path: Path, notify: NotifySocket) -> None:
    env = {"TB_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "TB_SENTIMENT_BACKEND": "embedded",
           "TB_CYCLE_SECONDS": "3600", "TB_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
           "NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    async def scenario() -> int:
        process = await ServeProcess(env, tmp_path, tmp_path / "serve.log").start()
        try:
            await asyncio.to_thread(notify.wait_for, "READY", 60)
            await asyncio.to_thread(notify.wait_for, "WATCHDOG", 10, 3)
            return await process.stop()
        finally:
            await process.kill()

    assert asyncio.run(scenario()) == 0
    assert [m.fields["READY"] for m in notify.with_key("READY")] == ["1"]
    assert len(notify.with_key("STOPPING")) == 1
