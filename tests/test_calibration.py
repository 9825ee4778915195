"""Probability: the base rate, plus only as much of the engine's claimed edge as its resolved record bears out."""
from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.base_rate import BaseRate
from intelligence.calibration import P_MAX, P_MIN, Resolved, fit_calibrator, shrink_weight
from intelligence.signal import MAX_PRIOR_EDGE, build_signal, prior_probability
from intelligence.sizing import risk_units
from intelligence.types import Direction
from tests.conftest import utc
from tests.signal_fixtures import make_narrative, make_price

BUY, SELL = Direction.BUY, Direction.SELL
SPY_UP = {"SPY": BaseRate(0.56, 300)}


def _record(n: int, hit_rate_over_base: float, edge: float = 0.08, base: float = 0.5, seed: int = 3,
            cohort: str = "DIVERGENCE_BULLISH") -> list[Resolved]:
    """n calls on n days, each claiming `edge`, right with probability base + hit_rate_over_base."""
    rng = random.Random(seed)
    start = date(2018, 1, 1)
    return [Resolved(BUY, rng.random() < base + hit_rate_over_base, edge, base, cohort, start + timedelta(days=i))
            for i in range(n)]


def test_with_no_resolved_calls_the_probability_is_the_base_rate() -> None:
    calibrator = fit_calibrator([], min_outcomes=30, base_rates=SPY_UP)
    assert calibrator.method == "base_rate" and calibrator.pooled.status == "none yet"
    for strength, mass in ((0.1, 1.0), (0.9, 8.0)):
        prior = prior_probability(strength, mass)
        assert calibrator.assess(prior, BUY, "SPY").probability == pytest.approx(0.56)
        assert calibrator.assess(prior, SELL, "SPY").probability == pytest.approx(0.44)
    # A symbol with no bars to measure a base rate on is a coin flip.
    assert calibrator.assess(prior_probability(0.9, 8.0), BUY, "ETH").probability == 0.5


def test_a_record_that_bears_the_edge_out_keeps_it_and_proves_it() -> None:
    calls = _record(600, hit_rate_over_base=0.08)  # right exactly as often as claimed
    calibrator = fit_calibrator(calls, min_outcomes=30, base_rates={"SPY": BaseRate(0.5, 300)})
    skill = calibrator.pooled
    assert skill.proven and skill.status == "proven"
    assert 0.5 < skill.weight <= 1.0 and skill.slope_interval[0] > 0
    assert skill.brier_skill is not None and skill.brier_skill > 0
    p = calibrator.assess(0.58, BUY, "SPY").probability
    assert 0.5 + 0.5 * 0.08 < p <= 0.58


def test_a_record_of_coin_flips_keeps_nothing() -> None:
    calls = _record(600, hit_rate_over_base=0.0, seed=11)
    calibrator = fit_calibrator(calls, min_outcomes=30, base_rates=SPY_UP)
    assert not calibrator.pooled.proven
    # Noise around zero skill: the weight is zero, or a sliver of the claimed edge.
    assert abs(calibrator.pooled.weight) < 0.35
    assert abs(calibrator.assess(0.6, BUY, "SPY").probability - 0.56) < 0.035


def test_below_the_minimum_count_nothing_of_the_edge_is_kept() -> None:
    calls = _record(20, hit_rate_over_base=0.4)  # twenty straight wins would be luck as often as skill
    calibrator = fit_calibrator(calls, min_outcomes=30, base_rates=SPY_UP)
    assert calibrator.pooled.weight == 0.0 and not calibrator.pooled.proven
    assert calibrator.assess(0.6, BUY, "SPY").probability == pytest.approx(0.56)


def test_a_cohort_with_its_own_record_stands_apart_only_as_far_as_the_data_say() -> None:
    good = _record(400, 0.1, edge=0.1, cohort="CONFIRMED_BULLISH", seed=1)
    bad = _record(400, 0.0, edge=0.1, cohort="DIVERGENCE_BULLISH", seed=2)
    middling = _record(400, 0.05, edge=0.1, cohort="CONFIRMED_BEARISH", seed=6)
    few = _record(10, 0.0, edge=0.1, cohort="DIVERGENCE_BEARISH", seed=4)
    # Two cohorts with enough calls cannot tell a spread from noise: everyone takes the pooled weight.
    assert fit_calibrator(good + bad + few, min_outcomes=30).cohorts == {}
    calibrator = fit_calibrator(good + bad + middling + few, min_outcomes=30)
    assert set(calibrator.cohorts) == {"CONFIRMED_BULLISH", "DIVERGENCE_BULLISH", "CONFIRMED_BEARISH"}
    confirmed, divergence = calibrator.cohorts["CONFIRMED_BULLISH"], calibrator.cohorts["DIVERGENCE_BULLISH"]
    assert confirmed.weight > calibrator.pooled.weight > divergence.weight
    # A cohort too small for its own estimate takes the pooled one.
    assert calibrator.assess(0.6, BUY, "SPY", "DIVERGENCE_BEARISH").skill is calibrator.pooled


def test_a_record_worse_than_the_base_rate_is_flagged_and_sized_to_nothing() -> None:
    losing = fit_calibrator(_record(300, hit_rate_over_base=-0.15, edge=0.1, seed=5), min_outcomes=30)
    assert losing.pooled.weight < 0
    as_of = utc(2018, 3, 27)
    signal = build_signal("SPY", as_of, make_narrative(0.3), make_price(-0.2, -0.3, -0.1, as_of), timedelta(hours=24),
                          calibrator=losing)
    assert signal.direction is BUY and signal.probability < 0.5
    assert "TRACK_RECORD_AGAINST" in signal.reason_codes and "NO_PROVEN_EDGE" in signal.reason_codes
    assert risk_units(signal.probability) == 0.0


def test_a_side_the_market_rarely_pays_is_flagged_by_its_base_rate() -> None:
    as_of = utc(2018, 3, 27)
    calibrator = fit_calibrator([], min_outcomes=30, base_rates=SPY_UP)
    signal = build_signal("SPY", as_of, make_narrative(-0.3), make_price(0.2, 0.3, 0.1, as_of), timedelta(hours=24),
                          calibrator=calibrator)
    assert signal.direction is SELL and signal.probability == pytest.approx(0.44)
    assert signal.base_rate == pytest.approx(0.44) and signal.edge_status == "none yet"
    assert "BASE_RATE_AGAINST" in signal.reason_codes and "NO_PROVEN_EDGE" in signal.reason_codes
    assert signal.probability_method == "base_rate" and risk_units(signal.probability) == 0.0


def test_holds_are_not_calls() -> None:
    assert fit_calibrator([Resolved(Direction.HOLD, True, 0.1)], 1).count == 0
    with pytest.raises(ValueError, match="HOLD"):
        fit_calibrator([], 1).assess(0.55, Direction.HOLD, "SPY")
    with pytest.raises(ValueError, match="min_outcomes"):
        fit_calibrator([], 0)


# --- invariants ------------------------------------------------------------------------------------------

calls_strategy = st.lists(
    st.tuples(st.sampled_from([BUY, SELL]), st.booleans(), st.floats(0, MAX_PRIOR_EDGE), st.floats(0.05, 0.95),
              st.sampled_from(["DIVERGENCE_BULLISH", "CONFIRMED_BEARISH", ""]), st.integers(0, 40)),
    max_size=120,
)


def _calls(raw: list[tuple[Direction, bool, float, float, str, int]]) -> list[Resolved]:
    return [Resolved(d, h, e, b, c, date(2019, 1, 1) + timedelta(days=day)) for d, h, e, b, c, day in raw]


@given(calls_strategy, st.floats(0, 1), st.floats(0, 20), st.sampled_from([BUY, SELL]), st.integers(1, 40),
       st.floats(0.01, 0.99), st.sampled_from(["DIVERGENCE_BULLISH", "CONFIRMED_BEARISH", "NO_SUCH_COHORT"]))
def test_probability_is_always_inside_the_open_interval(raw, conviction, mass, side, minimum, up, cohort) -> None:
    calibrator = fit_calibrator(_calls(raw), minimum, {"SPY": BaseRate(up, 10)})
    judged = calibrator.assess(prior_probability(conviction, mass), side, "SPY", cohort)
    assert 0 < P_MIN <= judged.probability <= P_MAX < 1
    assert -1.0 <= judged.skill.weight <= 1.0


@given(st.integers(0, 0), st.floats(0, 1), st.floats(0, 20), st.floats(0.01, 0.99), st.sampled_from([BUY, SELL]))
def test_with_zero_resolved_calls_the_probability_equals_the_base_rate(_, conviction, mass, up, side) -> None:
    calibrator = fit_calibrator([], 30, {"SPY": BaseRate(up, 10)})
    expected = up if side is BUY else 1 - up
    assert calibrator.assess(prior_probability(conviction, mass), side, "SPY").probability == pytest.approx(
        min(P_MAX, max(P_MIN, expected)))


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.001, 2))
def test_shrinkage_is_monotone_in_the_slope_and_never_claims_more_than_it(a, b, se) -> None:
    low, high = sorted((a, b))
    assert shrink_weight(low, se) <= shrink_weight(high, se)
    assert abs(shrink_weight(high, se)) <= min(1.0, abs(high))
    assert shrink_weight(high, math.inf) == 0.0


@given(st.floats(-3, 3), st.floats(0.001, 2), st.floats(0.001, 2))
def test_shrinkage_keeps_less_of_a_noisier_slope(slope, a, b) -> None:
    quiet, noisy = sorted((a, b))
    assert abs(shrink_weight(slope, noisy)) <= abs(shrink_weight(slope, quiet))


@given(calls_strategy.filter(lambda raw: len(raw) > 0), st.data())
def test_more_hits_never_lower_the_weight(raw, data) -> None:
    """Demonstrated skill rises when a miss becomes a hit; the weight on the claimed edge never falls with it."""
    pooled = [(d, h, e, b, "", day) for d, h, e, b, _, day in raw]  # one cohort: the pooled estimate alone
    misses = [i for i, r in enumerate(pooled) if not r[1]]
    if not misses:
        return
    flip = data.draw(st.sampled_from(misses))
    better = list(pooled)
    better[flip] = (pooled[flip][0], True, *pooled[flip][2:])
    before = fit_calibrator(_calls(pooled), 5).pooled
    after = fit_calibrator(_calls(better), 5).pooled
    assert after.slope >= before.slope - 1e-12
    assert after.weight >= before.weight - 1e-12


def test_the_digest_item_says_whether_an_edge_is_proven() -> None:
    from intelligence.digest import build_digest

    as_of = utc(2018, 3, 27)
    none_yet = fit_calibrator([], min_outcomes=30, base_rates=SPY_UP)
    proven = fit_calibrator(_record(600, hit_rate_over_base=0.08, cohort="DIVERGENCE_BULLISH"), min_outcomes=30,
                            base_rates=SPY_UP)
    call = dict(narrative=make_narrative(0.3), price=make_price(-0.2, -0.3, -0.1, as_of), horizon=timedelta(hours=24))
    signals = [build_signal("SPY", as_of, calibrator=none_yet, **call),
               build_signal("QQQ", as_of, calibrator=proven, **call),
               build_signal("DIA", as_of, make_narrative(0.01), make_price(0.0, 0.0, 0.0, as_of), timedelta(hours=24),
                            calibrator=proven)]
    items = {item.symbol: item for item in build_digest(signals, as_of, "embedded", 3).items}
    assert items["SPY"].edge == "none yet" and "NO_PROVEN_EDGE" in items["SPY"].reason_codes
    assert items["QQQ"].edge == "proven" and "EDGE_PROVEN" in items["QQQ"].reason_codes
    assert items["SPY"].probability == pytest.approx(0.56)  # the base rate, nothing more
    assert items["QQQ"].probability > 0.5  # QQQ has no bars here (a coin flip), plus the part of the edge kept
    assert items["DIA"].edge is None  # a hold claims nothing
