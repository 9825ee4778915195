"""The read cache: a burst shares one read, changes through the service show at once, others within the bound."""
from __future__ import annotations

import threading
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.composition import utcnow
from service.composition import build_app
from service.read_cache import ReadCache
from intelligence.types import Direction
from tests.chat_fixtures import MARKET_TIME, chat_settings, seed_proposal, seed_run
from storage.db import open_store


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_shared_until_it_is_too_old_or_cleared() -> None:
    ticks, calls = Ticks(), []
    cache = ReadCache(1.0, ticks)
    read = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert [cache.get("k", read) for _ in range(50)] == [1] * 50
    ticks.now = 0.99
    assert cache.get("k", read) == 1
    ticks.now = 1.0
    assert cache.get("k", read) == 2
    cache.clear()
    assert cache.get("k", read) == 3
    assert cache.get("other", read) == 4


def test_zero_seconds_means_no_cache() -> None:
    calls = []
    cache = ReadCache(0.0)
    assert [cache.get("k", lambda: calls.append(1) or len(calls)) for _ in range(3)] == [1, 2, 3]


def test_an_answer_read_across_a_change_is_not_kept() -> None:
    cache, answers = ReadCache(60.0), iter(["old", "new"])

    def read_while_someone_changes_things() -> str:
        worker = threading.Thread(target=cache.clear)  # a /pause from a worker thread, mid-read
        worker.start()
        worker.join()
        return next(answers)

    assert cache.get("status", read_while_someone_changes_things) == "old"
    assert cache.get("status", lambda: next(answers)) == "new"


@given(st.lists(st.sampled_from(["get-a", "get-b", "clear", "tick"]), max_size=40))
def test_never_older_than_the_bound_nor_than_the_last_clear(ops: list[str]) -> None:
    ticks, version = Ticks(), [0]
    cache = ReadCache(1.0, ticks)
    for op in ops:
        if op == "clear":
            version[0] += 1  # something changed, and said so
            cache.clear()
        elif op == "tick":
            ticks.now += 0.4
        else:
            stamp = (version[0], ticks.now)
            got_version, got_at = cache.get(op, lambda stamp=stamp: stamp)
            assert got_version == version[0] and ticks.now - got_at < 1.0


def test_the_service_shows_its_own_changes_at_once_and_shares_reads(tmp_path) -> None:
    settings = chat_settings(f"sqlite:///{tmp_path}/store.db")
    sessions = open_store(settings.database_url)
    service = build_app(settings, sessions=sessions, clock=utcnow).service
    assert not service.status().paused
    assert service.status() is service.status()  # a burst shares one read
    service.pause("telegram:1")
    assert service.status().paused  # its own change: seen at once
    _, signals = seed_run(sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
    seed_proposal(sessions, signals[0], utcnow(), ttl=timedelta(hours=1))
    service.forget_reads()  # another writer (serve's cycle) says so; or the bound passes (tested above)
    [proposal] = service.proposals()
    assert service.status().pending_proposals == (proposal,)
    assert service.reject(proposal.id, "telegram:1").ok
    assert service.proposals() == []
