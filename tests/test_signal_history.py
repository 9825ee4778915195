"""The cycle's history read: columns only, one bar check per symbol, and the indexes revision 0002 adds."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect, text

from pipeline.signal_state import divergence_history, resolved_calls
from intelligence.outcomes import resolve_outcome
from intelligence.types import Direction
from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.migrate import alembic_config
from storage.models import Run, SignalRow
from tests.conftest import utc

AS_OF = utc(2025, 12, 13, 10, 14)  # the embedded snapshot's newest headline
MARKET = EmbeddedMarketData()


def _calls(sessions, symbols: tuple[str, ...], count: int = 12) -> list[SignalRow]:
    with sessions.begin() as session:
        run = Run(started_at=AS_OF, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        made = [SignalRow(run_id=run.id, symbol=symbol, as_of=utc(2025, 11, 20) + timedelta(hours=7 * i),
                          direction=("BUY", "SELL", "HOLD")[i % 3], probability=0.55, conviction=0.05 * i,
                          horizon_hours=(12, 24, 48)[i % 3], narrative_score=0.3, price_score=0.1, divergence=0.01 * i,
                          reason_codes=["DIVERGENCE_BULLISH"] if i % 4 else ["NO_NEWS"], evidence="x" * 500,
                          features={"unused": list(range(50))})
                for symbol in symbols for i in range(count)]
        session.add_all(made)
    return made


def test_calls_of_several_symbols_resolve_as_one_by_one_and_a_symbol_without_bars_is_skipped(tmp_path: Path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    made = _calls(sessions, ("ETH", "BTC", "NOSUCHCOIN"))
    expected = []
    for row in sorted(made, key=lambda r: (r.as_of, r.symbol)):
        if row.direction == "HOLD" or row.symbol == "NOSUCHCOIN":
            continue
        series = MARKET.bars_until(row.symbol, AS_OF)
        outcome = resolve_outcome(row.as_of, Direction(row.direction), timedelta(hours=row.horizon_hours),
                                  series.bars, series.interval)
        if outcome is not None and outcome.exit_time < AS_OF:
            expected.append((row.conviction, row.direction, outcome.hit))
    with sessions() as session:
        found = resolved_calls(session, MARKET, AS_OF)
    assert expected and [(c.conviction, c.direction.value, c.hit) for c in found] == expected


def test_divergence_history_reads_the_newest_cycles_with_news_oldest_first(tmp_path: Path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    made = [r for r in _calls(sessions, ("BTC",)) if r.reason_codes != ["NO_NEWS"]]
    with sessions() as session:
        history = divergence_history(session, ["BTC", "ETH"], made[-1].as_of, length=3)
    assert history == {"BTC": [r.divergence for r in made[-4:-1]], "ETH": []}


def test_a_store_at_revision_0001_gains_the_history_indexes_on_open_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    sessions = open_store(url)  # the newest revision: 0002 runs on the existing store
    with engine.connect() as connection:
        names = {ix["name"] for ix in inspect(connection).get_indexes("signals")}
        assert {"ix_signals_symbol_as_of", "ix_signals_as_of"} <= names
    _calls(sessions, ("BTC",), count=3)
    with engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT as_of, divergence FROM signals WHERE symbol = 'BTC' AND as_of < '2026-01-01' "
            "ORDER BY as_of DESC")))
        assert "ix_signals_symbol_as_of" in plan
        assert connection.execute(text("SELECT count(*) FROM signals")).scalar() == 3
    engine.dispose()
