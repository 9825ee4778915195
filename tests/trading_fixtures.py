"""Shared helpers for the trading tests: a settable clock, bar files, proposals as the engine stores them."""
from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest
from sqlalchemy import delete

from trading.alerts import Alert
from config import Settings
from storage.db import Sessions, open_store
from storage.models import Base, ProposalRow, Run, SignalRow
from storage.trading_models import ProposalPlanRow
from tests.conftest import utc
from tests.pg_fixtures import active_pg_url

HOUR = timedelta(hours=1)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store with the schema made, copied per test: creating the tables costs most of a second."""
    path = tmp_path_factory.mktemp("template") / "tb.db"
    open_store(f"sqlite:///{path}").kw["bind"].dispose()
    return path


@pytest.fixture
def db_url(template_db: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh store per test; in memory-backed /dev/shm where there is one, since each of the many
    small commits a trading action makes costs an fsync on a disk. On PostgreSQL (tests/pg_fixtures.py), a
    fresh database there."""
    pg = active_pg_url()
    if pg is not None:
        yield pg
        return
    shm = Path("/dev/shm")
    directory = Path(tempfile.mkdtemp(prefix="tb-trading-", dir=shm)) if shm.is_dir() else tmp_path
    path = directory / "trading.db"
    shutil.copyfile(template_db, path)
    yield f"sqlite:///{path}"
    if directory != tmp_path:
        shutil.rmtree(directory, ignore_errors=True)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class RecordingNotifier:
    """A notifier that keeps what it was given (a channel implementation of the Notifier protocol)."""

    alerts: list[Alert] = field(default_factory=list)

    def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def kinds(self) -> list[str]:
        return [a.kind for a in self.alerts]


def settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, **overrides)


def write_bars(directory: Path, symbol: str, start: datetime, rows: Sequence[tuple[float, float, float, float]],
               interval: timedelta = HOUR) -> Path:
    """Bars as open, high, low, close from `start`, one per interval, in the embedded CSV format."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{symbol}USDT_1h.csv" if interval == HOUR else directory / f"{symbol}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
        for i, (o, h, l, c) in enumerate(rows):
            writer.writerow([(start + i * interval).isoformat(), o, h, l, c, 100.0])
    return path


def flat_bars(price: float, count: int) -> list[tuple[float, float, float, float]]:
    return [(price, price * 1.001, price * 0.999, price)] * count


def add_proposal(sessions: Sessions, *, symbol: str = "ETH", side: str = "buy", quantity: float = 1.0,
                 price: float = 3000.0, probability: float = 0.56, as_of: datetime = utc(2025, 12, 13, 10, 14),
                 created_at: datetime, stop_distance: float | None = 0.03, ttl: timedelta = timedelta(hours=4),
                 suggested: float | None = None, quote_time: datetime | None = None) -> int:
    """A proposal stored the way the cycle stores one: run, signal, proposal and its plan."""
    with sessions.begin() as session:
        run = Run(started_at=created_at, finished_at=created_at, as_of=as_of, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        signal = SignalRow(
            run_id=run.id, symbol=symbol, as_of=as_of, direction="BUY" if side == "buy" else "SELL", probability=probability,
            conviction=0.5, horizon_hours=24.0, narrative_score=0.3, price_score=-0.1, divergence=0.4,
            reason_codes=["DIVERGENCE_BULLISH"], evidence="test", features={"price": {"last_bar_end": as_of.isoformat()}},
        )
        session.add(signal)
        session.flush()
        proposal = ProposalRow(
            signal_id=signal.id, symbol=symbol, side=side, quantity=quantity, notional=quantity * price,
            reference_price=price, probability=probability, status="proposed", created_at=created_at,
            expires_at=created_at + ttl, updated_at=created_at, updated_by="engine",
        )
        session.add(proposal)
        session.flush()
        if stop_distance is not None:
            session.add(ProposalPlanRow(
                proposal_id=proposal.id, suggested_quantity=suggested if suggested is not None else quantity,
                stop_distance=stop_distance, signal_as_of=as_of,
                quote_time=quote_time or as_of.replace(minute=0, second=0, microsecond=0),
            ))
        return proposal.id


@dataclass
class World:
    """An operator service over a trading desk, with the clock, the alerts and the store at hand."""

    service: Any  # service.operator.OperatorService
    desk: Any  # trading.desk.TradingDesk
    clock: Clock
    notifier: RecordingNotifier
    sessions: Sessions
    sleeps: list[float]


def make_world(db_url: str, clock: Clock, broker_factory: Any, **overrides: Any) -> World:
    """`broker_factory(sessions, clock)` gives the broker; settings take `overrides`."""
    from service.operator import OperatorService, ServiceConfig
    from trading.desk import DeskConfig, TradingDesk

    config = settings(db_url, **overrides)
    sessions = open_store(db_url)
    notifier, sleeps = RecordingNotifier(), []
    desk = TradingDesk(DeskConfig.from_settings(config), sessions, clock, broker_factory(sessions, clock), notifier,
                       sleep=sleeps.append)
    service = OperatorService(ServiceConfig.from_settings(config), sessions, clock, lambda: desk)
    return World(service, desk, clock, notifier, sessions, sleeps)


def sim_factory(bars_dir: Path, cash: float = 100_000.0) -> Any:
    from providers.bars import EmbeddedMarketData
    from trading.sim_broker import SimBroker

    return lambda sessions, clock: SimBroker(sessions, EmbeddedMarketData(bars_dir), clock, cash, 5.0, 10.0)


# A desk on the simulated broker over flat hourly bars of ETH, BTC and SOL from 2025-12-13, at a wall
# time long after them (the simulator replays that history at wall speed from then).
DESK_WALL = utc(2026, 3, 1, 12)


@pytest.fixture
def bars_dir(tmp_path: Path) -> Path:
    for symbol, price in (("ETH", 3000.0), ("BTC", 90_000.0), ("SOL", 130.0)):
        write_bars(tmp_path / "bars", symbol, utc(2025, 12, 13), flat_bars(price, 72))
    return tmp_path / "bars"


@pytest.fixture
def world(db_url: str, bars_dir: Path) -> World:
    return make_world(db_url, Clock(DESK_WALL), sim_factory(bars_dir))


def proposal_status(sessions: Sessions, proposal_id: int) -> str:
    with sessions() as session:
        return session.get_one(ProposalRow, proposal_id).status


def empty_store(sessions: Sessions) -> None:
    """Every table emptied, children first: one store reused across a property test's examples."""
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def bars_from_moves(directory: Path, prices: dict[str, float], start: datetime, moves: dict[str, list[float]]) -> None:
    """Bar files in which each symbol starts at its price and closes each bar `move` away from its open."""
    for symbol, price in prices.items():
        rows, close = [], price
        for move in moves[symbol]:
            open_ = close
            close = open_ * (1 + move)
            rows.append((open_, max(open_, close) * 1.002, min(open_, close) * 0.998, close))
        write_bars(directory, symbol, start, rows)
