"""Which broker the settings ask for: the simulated one without Alpaca keys, Alpaca otherwise.

Called by the composition root (service/composition.py), which builds everything else."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable


if TYPE_CHECKING:  # live_banner runs on every CLI call: the store and the desk load only when built
    from intelligence.types import BarSource
    from config import Settings
    from storage.db import Sessions
    from trading.broker import Broker

LIVE_BANNER = (
    "*** LIVE TRADING: orders go to Alpaca's live API with REAL MONEY "
    "(TB_LIVE_TRADING=1 and the confirmation phrase are set) ***"
)


def live_banner(settings: Settings) -> str | None:
    """The banner to show loudly at start and in status; None when trading is paper or simulated."""
    return LIVE_BANNER if settings.trading_mode == "live" else None


def build_broker(settings: Settings, sessions: Sessions, clock: Callable[[], datetime], bars: BarSource | None = None) -> Broker:
    if settings.trading_mode == "simulated":
        from providers.bars import EmbeddedMarketData
        from trading.sim_broker import SimBroker

        source = bars if bars is not None else EmbeddedMarketData(settings.bars_dir)
        return SimBroker(sessions, source, clock, settings.sim_equity, settings.sim_slippage_bps, settings.sim_fee_bps)
    from trading.alpaca_broker import AlpacaBroker

    assert settings.alpaca_key is not None and settings.alpaca_secret is not None
    return AlpacaBroker(settings.alpaca_key.get_secret_value(), settings.alpaca_secret.get_secret_value(),
                        paper=settings.trading_mode != "live", url=settings.alpaca_trading_url,
                        timeout=settings.broker_timeout_seconds, clock=clock)
