"""The circuit breaker's transitions, on an injected clock: no sleeping."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.circuit import BreakerState, CircuitBreaker, CircuitOpen
from tests.conftest import utc

COOL = timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = utc(2026, 1, 5, 12, 0)

    def __call__(self):
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Boom(Exception):
    pass


def _fail() -> None:
    raise Boom("HTTP 503 from the feed")


def test_opens_after_n_failures_in_a_row_and_then_calls_nothing() -> None:
    clock = Clock()
    breaker = CircuitBreaker("rss:Demo", 3, COOL, clock)
    for _ in range(2):
        with pytest.raises(Boom):
            breaker.call(_fail)
    assert breaker.state is BreakerState.CLOSED
    with pytest.raises(Boom):
        breaker.call(_fail)
    assert breaker.state is BreakerState.OPEN
    called = []
    with pytest.raises(CircuitOpen, match=r"circuit open after 3 failure\(s\) in a row \(last: HTTP 503 from the feed\)"):
        breaker.call(lambda: called.append(1))
    assert called == []
    snap = breaker.snapshot()
    assert snap.opened_at == clock.now and snap.retry_at == clock.now + COOL and snap.failures == 3


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("x", 2, COOL, Clock())
    for _ in range(5):
        with pytest.raises(Boom):
            breaker.call(_fail)
        assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state is BreakerState.CLOSED and breaker.snapshot().failures == 0


def test_half_open_after_the_cool_down_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("x", 1, COOL, clock)
    with pytest.raises(Boom):
        breaker.call(_fail)
    clock.advance(minutes=4, seconds=59)
    assert breaker.state is BreakerState.OPEN
    clock.advance(seconds=1)
    assert breaker.state is BreakerState.HALF_OPEN

    def trial():
        # While the trial runs, nobody else gets through.
        with pytest.raises(CircuitOpen, match="trial call is still running"):
            breaker.call(lambda: None)
        return "fine"

    assert breaker.call(trial) == "fine"
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_opens_for_another_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("x", 3, COOL, clock)
    for _ in range(3):
        with pytest.raises(Boom):
            breaker.call(_fail)
    clock.advance(minutes=5)
    with pytest.raises(Boom):
        breaker.call(_fail)  # one failure in half-open is enough
    assert breaker.state is BreakerState.OPEN and breaker.snapshot().opened_at == clock.now


def test_a_restored_snapshot_keeps_an_open_breaker_open() -> None:
    clock = Clock()
    first = CircuitBreaker("alpaca:bars", 1, COOL, clock)
    with pytest.raises(Boom):
        first.call(_fail)
    clock.advance(minutes=1)
    again = CircuitBreaker("alpaca:bars", 1, COOL, clock, first.snapshot())
    with pytest.raises(CircuitOpen):
        again.call(lambda: None)
    clock.advance(minutes=4)
    assert again.state is BreakerState.HALF_OPEN
    assert again.call(lambda: 7) == 7 and again.snapshot().last_success_at == clock.now


def test_ctrl_c_is_not_a_provider_failure() -> None:
    clock = Clock()
    breaker = CircuitBreaker("x", 1, COOL, clock)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted)
    assert breaker.state is BreakerState.CLOSED


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("x", 0, COOL, Clock())
    with pytest.raises(ValueError, match="cooldown"):
        CircuitBreaker("x", 1, timedelta(0), Clock())


EVENTS = st.lists(st.one_of(
    # Waits near the cool-down (300 s) hit its edges, where an off-by-one would hide.
    st.tuples(st.just("wait"), st.one_of(st.sampled_from([1, 299, 300, 301]), st.integers(min_value=1, max_value=400))),
    st.tuples(st.sampled_from(["ok", "fail"]), st.just(0)),
), max_size=60)


@settings(max_examples=200, deadline=None)
@given(events=EVENTS, threshold=st.integers(min_value=1, max_value=4))
def test_never_calls_through_while_open_before_the_cool_down(events, threshold) -> None:
    """Against a reference model: the provider is touched only when closed or once the cool-down is over,
    and the breaker opens exactly when the failures in a row reach the threshold (or a trial fails)."""
    clock = Clock()
    breaker = CircuitBreaker("p", threshold, COOL, clock)
    in_a_row, opened_at = 0, None
    for kind, seconds in events:
        if kind == "wait":
            clock.advance(seconds=seconds)
            continue
        model_open = opened_at is not None and clock.now < opened_at + COOL
        trial = opened_at is not None and not model_open
        touched = []

        def action(touched: list = touched, kind: str = kind) -> None:
            touched.append(clock.now)
            if kind == "fail":
                raise Boom("down")

        try:
            breaker.call(action)
        except (Boom, CircuitOpen):
            pass
        assert bool(touched) == (not model_open)
        if touched:
            if kind == "ok":
                in_a_row, opened_at = 0, None
            else:
                in_a_row += 1
                if trial or in_a_row >= threshold:
                    opened_at = clock.now
        expected = BreakerState.CLOSED if opened_at is None else (
            BreakerState.OPEN if clock.now < opened_at + COOL else BreakerState.HALF_OPEN)
        assert breaker.state is expected
