"""Reading signals and resolving them on real SPY daily and Binance hourly bars."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from eval.resolve import ENTRY_SLACK, SingleFileBars, bar_source, resolve
from eval.signals import SignalsError, checked_signal, load_store_signals, read_signals_csv
from intelligence.types import Direction
from providers.bars import BarsError, EmbeddedMarketData
from storage.db import open_store
from tests.conftest import utc
from tests.eval_fixtures import store_signal

DATA = Path(__file__).resolve().parent / "data" / "bars"
HEADER = "as_of,symbol,direction,probability,horizon_hours,conviction,narrative_score,price_score,divergence,reason_codes,headline_count,sources\n"


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "signals.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def spy_signal(as_of, direction: Direction, probability: float | None = 0.6, horizon: float = 24.0):
    return checked_signal("test", "t", as_of, "SPY", direction, probability, horizon, 0.4, 0.3, -0.1, ("X",), ("CNBC",))


def test_a_replay_csv_reads_into_signals(tmp_path: Path) -> None:
    path = write(tmp_path,
                 "2017-12-28T21:00:00+00:00,SPY,SELL,0.58,24,0.3,-0.4,0.1,-0.5,DIVERGENCE_BEARISH;VOLUME_LIGHT,3,CNBC;Reuters",
                 "2017-12-29T21:00:00+00:00,SPY,HOLD,0.5,24,0.0,0.05,0.1,-0.05,WEAK_NARRATIVE,1,Guardian")
    sell, hold = read_signals_csv(path)
    assert sell.direction is Direction.SELL and sell.probability == 0.58 and sell.key == "line 2"
    assert sell.reason_codes == ("DIVERGENCE_BEARISH", "VOLUME_LIGHT") and sell.sources == ("CNBC", "Reuters")
    assert hold.probability is None and not hold.actionable  # a HOLD forecasts nothing


@pytest.mark.parametrize("row, message", [
    ("2017-12-28T21:00:00,SPY,BUY,0.6,24,0.3,0.4,0.1,0.3,X,1,CNBC", "line 2: as_of .* has no UTC offset"),
    ("2017-12-28T21:00:00+00:00,SPY,LONG,0.6,24,0.3,0.4,0.1,0.3,X,1,CNBC", "line 2: direction 'LONG'"),
    ("2017-12-28T21:00:00+00:00,SPY,BUY,,24,0.3,0.4,0.1,0.3,X,1,CNBC", "line 2: a BUY signal needs a probability"),
    ("2017-12-28T21:00:00+00:00,SPY,BUY,1.4,24,0.3,0.4,0.1,0.3,X,1,CNBC", "line 2: probability 1.4 is outside"),
    ("2017-12-28T21:00:00+00:00,SPY,BUY,0.6,0,0.3,0.4,0.1,0.3,X,1,CNBC", "line 2: horizon_hours must be positive"),
    ("2017-12-28T21:00:00+00:00,SPY,BUY,0.6,24,0.3,nan,0.1,0.3,X,1,CNBC", "line 2: narrative_score is not a finite"),
    ("2017-12-28T21:00:00+00:00,SPY,BUY,0.6,24,0.3,0.4,0.1,0.3,X,1,CNBC,extra", "line 2: more fields"),
])
def test_bad_rows_are_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(SignalsError, match=message):
        read_signals_csv(write(tmp_path, row))


def test_a_file_without_the_needed_columns_or_at_all_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SignalsError, match="missing column\\(s\\) probability"):
        read_signals_csv(write(tmp_path, header="as_of,symbol,direction,horizon_hours,narrative_score,price_score\n"))
    with pytest.raises(SignalsError, match="no such signals file"):
        read_signals_csv(tmp_path / "absent.csv")


def test_a_sell_before_a_down_session_is_right_and_the_market_move_is_down() -> None:
    bars = SingleFileBars(DATA / "SPY.csv", ["SPY"])
    r = resolve(spy_signal(utc(2017, 12, 29), Direction.SELL), bars, utc(2018, 6, 1))
    # 29 December 2017 opened at 268.53 and closed at 266.86 (the CSV row)
    assert r.status == "resolved" and r.outcome is not None and r.outcome.hit
    assert r.outcome.realized_return == pytest.approx(math.log(268.5299987792969 / 266.8599853515625))
    assert r.up is False and r.market is not None and r.market.realized_return == pytest.approx(-r.outcome.realized_return)


def test_a_signal_stays_open_until_its_horizon_has_passed() -> None:
    bars = SingleFileBars(DATA / "SPY.csv", ["SPY"])
    signal = spy_signal(utc(2018, 1, 2), Direction.BUY)
    assert resolve(signal, bars, utc(2018, 1, 2, 12)).status == "open"  # the session has not closed yet
    assert resolve(signal, bars, utc(2018, 1, 3)).status == "resolved"
    beyond = spy_signal(utc(2018, 1, 31), Direction.BUY, horizon=24 * 5)
    assert resolve(beyond, bars, utc(2030, 1, 1)).status == "open"  # the file ends before the horizon does


def test_holds_are_not_scored_but_their_market_move_is_known() -> None:
    r = resolve(spy_signal(utc(2017, 12, 29), Direction.HOLD, None), SingleFileBars(DATA / "SPY.csv", ["SPY"]),
                utc(2018, 6, 1))
    assert r.status == "hold" and r.outcome is None and r.up is False


def test_embedded_hourly_bars_resolve_a_24_hour_call() -> None:
    market = EmbeddedMarketData()
    signal = checked_signal("t", "1", utc(2025, 12, 13, 10, 14), "BTC", Direction.BUY, 0.56, 24, 0.3, 0.3, -0.1, (), ())
    r = resolve(signal, market, utc(2026, 1, 1))
    assert r.outcome is not None and r.outcome.entry_time == utc(2025, 12, 13, 11)
    assert r.outcome.exit_time == utc(2025, 12, 14, 11)


def test_a_symbol_without_bars_is_marked_not_silently_dropped(tmp_path: Path) -> None:
    signal = checked_signal("t", "1", utc(2025, 12, 13), "TSLA", Direction.BUY, 0.6, 24, 0.3, 0.3, -0.1, (), ())
    r = resolve(signal, EmbeddedMarketData(), utc(2026, 1, 1))
    assert r.status == "unresolvable" and "no bars for symbol 'TSLA'" in (r.problem or "")


def test_one_bar_file_cannot_serve_two_symbols() -> None:
    with pytest.raises(BarsError, match="name 2 symbols"):
        SingleFileBars(DATA / "SPY.csv", ["SPY", "QQQ"])
    assert isinstance(bar_source(DATA, []), EmbeddedMarketData)
    assert ENTRY_SLACK.days >= 4  # a Friday-evening call before a long weekend still finds its entry


def test_store_signals_carry_their_sources_and_reasons(database_url: str) -> None:
    sessions = open_store(database_url)
    store_signal(sessions, "ETH", utc(2025, 12, 13, 10), "BUY", 0.55, sources=("Decrypt", "CoinDesk", "Decrypt"))
    store_signal(sessions, "BTC", utc(2025, 12, 13, 10), "HOLD", None)
    with sessions() as session:
        eth, btc = sorted(load_store_signals(session), key=lambda s: s.symbol, reverse=True)
    assert eth.sources == ("CoinDesk", "Decrypt") and eth.reason_codes == ("DIVERGENCE_BULLISH",)
    assert btc.direction is Direction.HOLD and btc.probability is None
