"""The composition root: the one place that builds the application from the settings.

The shell, the chat bot and `serve` all call `build_app`. It opens the store, chooses the broker
(simulated without Alpaca keys, Alpaca otherwise: trading/factory.py) and builds the trading desk on
first use with the notifier it is given (chat channels pass theirs; the default is the log), and the
operator service over both. Each component gets a small frozen config of its own, read from the
settings here and nowhere else.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from config import Settings
from service.operator import OperatorService, ServiceConfig
from storage.db import Sessions, open_store

if TYPE_CHECKING:
    from intelligence.types import BarSource
    from service.charts import SymbolChart
    from service.watchlist import WatchlistService
    from trading.alerts import Notifier
    from trading.broker import Broker
    from trading.desk import TradingDesk

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class App:
    settings: Settings
    sessions: Sessions
    clock: Clock
    notifier: Notifier | None
    broker: Broker | None = None  # given, or built with the desk
    bars: BarSource | None = None  # what the simulator fills from; None: the configured bar files
    _desk: TradingDesk | None = field(default=None, repr=False)
    _watchlist: WatchlistService | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    service: OperatorService = field(init=False)

    def __post_init__(self) -> None:
        self.service = OperatorService(ServiceConfig.from_settings(self.settings), self.sessions, self.clock, self.desk,
                                       self.watchlist, self.chart)

    def watchlist(self) -> WatchlistService:
        """The watchlist service, built once, on first use (with Alpaca keys it asks the broker about symbols)."""
        with self._lock:
            if self._watchlist is None:
                from service.watchlist import WatchlistService

                self._watchlist = WatchlistService(self.settings, self.sessions, self.clock)
            return self._watchlist

    def chart(self, symbol: str, now: datetime, days: float) -> SymbolChart:
        """One asset's picture (service/charts.py; imported here, on first use: it loads matplotlib)."""
        from service.charts import symbol_chart

        return symbol_chart(self.settings, self.sessions, symbol, now, days)

    def desk(self) -> TradingDesk:
        """The trading desk, built once, on first use (reading a status needs no broker)."""
        with self._lock:  # chat's worker threads may ask for it at the same moment
            if self._desk is None:
                from trading.alerts import LogNotifier
                from trading.desk import DeskConfig, TradingDesk
                from trading.factory import build_broker, live_banner

                banner = live_banner(self.settings)
                if banner:
                    import logging

                    logging.getLogger(__name__).warning(banner)
                if self.broker is None:
                    self.broker = build_broker(self.settings, self.sessions, self.clock, self.bars)
                self._desk = TradingDesk(DeskConfig.from_settings(self.settings), self.sessions, self.clock,
                                         self.broker, self.notifier or LogNotifier())
            return self._desk

    def close(self) -> None:
        """Close the broker's session, if one was opened."""
        close = getattr(self.broker, "close", None)
        if callable(close):
            close()


def build_app(settings: Settings, *, sessions: Sessions | None = None, clock: Clock = utcnow,
              notifier: Notifier | None = None, broker: Broker | None = None, bars: BarSource | None = None) -> App:
    """The application for `settings`: the store (opened here unless given), the service, the desk on demand."""
    return App(settings, sessions if sessions is not None else open_store(settings.database_url), clock, notifier,
               broker, bars)
