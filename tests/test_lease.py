"""The trader lease: one holder at a time, renewal, expiry and takeover, release, races, on both backends."""
from __future__ import annotations

import threading
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from serve.lease import TRADER, Lease, current_lease, new_holder_id
from storage.db import open_store
from storage.serve_models import LeaseRow
from tests.conftest import utc
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401

TTL = timedelta(seconds=30)
START = utc(2026, 3, 2, 9, 0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self):
        return self.now


def test_one_holder_renews_and_others_wait_until_it_runs_out(database_url: str) -> None:
    sessions, clock = open_store(database_url), Clock()
    first, second = (Lease(sessions, TRADER, holder, TTL, clock) for holder in ("host-a:1:aa", "host-b:2:bb"))
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    clock.now += timedelta(seconds=20)
    assert first.acquire()  # renewed: now good until 20 + 30 s
    clock.now += timedelta(seconds=25)
    assert not second.acquire()  # 45 s after the start, but only 25 s after the renewal
    seen = current_lease(sessions)
    assert seen is not None and seen.holder == "host-a:1:aa" and seen.acquired_at == START
    assert seen.heartbeat_at == START + timedelta(seconds=20) and seen.expires_at == START + timedelta(seconds=50)

    clock.now += timedelta(seconds=5)  # the first stopped renewing (crashed, frozen): its lease ran out
    assert not first.held()
    assert second.acquire() and second.held()
    assert not first.acquire() and not first.held()  # it comes back and learns it lost
    taken = current_lease(sessions)
    assert taken is not None and taken.holder == "host-b:2:bb" and taken.acquired_at == clock.now


def test_a_clean_release_lets_the_next_take_over_at_once(database_url: str) -> None:
    sessions, clock = open_store(database_url), Clock()
    first, second = Lease(sessions, TRADER, "a", TTL, clock), Lease(sessions, TRADER, "b", TTL, clock)
    assert first.acquire()
    first.release()
    assert not first.held()
    assert second.acquire()
    first.release()  # releasing a lease one no longer holds touches nobody else's
    assert second.acquire() and current_lease(sessions).holder == "b"  # type: ignore[union-attr]


def test_a_holder_trusts_only_its_last_successful_renewal(database_url: str) -> None:
    sessions, clock = open_store(database_url), Clock()
    lease = Lease(sessions, TRADER, "a", TTL, clock)
    assert lease.acquire()
    clock.now += TTL - timedelta(seconds=1)
    assert lease.held()
    clock.now += timedelta(seconds=1)  # no renewal came through (the store was unreachable, say)
    assert not lease.held()


def test_racing_processes_never_both_get_it(database_url: str) -> None:
    sessions, clock = open_store(database_url), Clock()
    leases = [Lease(sessions, TRADER, f"racer-{i}", TTL, clock) for i in range(6)]
    results: dict[str, bool] = {}
    barrier = threading.Barrier(len(leases))

    def race(lease: Lease) -> None:
        barrier.wait()
        results[lease.holder] = lease.acquire()

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [holder for holder, won in results.items() if won]
    assert len(results) == len(leases) and len(winners) == 1
    assert current_lease(sessions).holder == winners[0]  # type: ignore[union-attr]


def test_holder_ids_differ_between_processes_on_one_host() -> None:
    assert new_holder_id() != new_holder_id()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["acquire", "release"]), st.integers(0, 40)),
                      max_size=25))
def test_at_most_one_process_believes_it_holds_the_lease(database_url: str, steps) -> None:
    sessions, clock = open_store(database_url), Clock()
    with sessions.begin() as session:
        session.execute(delete(LeaseRow))
    leases = [Lease(sessions, TRADER, f"p{i}", TTL, clock) for i in range(3)]
    for who, action, seconds in steps:
        clock.now += timedelta(seconds=seconds)
        if action == "acquire":
            got = leases[who].acquire()
            if got:
                assert current_lease(sessions).holder == f"p{who}"  # type: ignore[union-attr]
        else:
            leases[who].release()
        believers = [lease.holder for lease in leases if lease.held()]
        assert len(believers) <= 1, believers
        row = current_lease(sessions)
        if believers:  # whoever believes it is the one the store names, and the store agrees it runs
            assert row is not None and row.holder == believers[0] and row.active(clock.now)
