"""Symbols the catalogue lacks, looked up at Alpaca (alpaca-py's TradingClient.get_asset: GET /v2/assets/{symbol}).

Only with Alpaca keys. The answer (name, class, exchange, tradable, fractionable) becomes a catalogue
entry that the store remembers (pipeline/universe.py): the lookup is made once per symbol, not per
cycle. A symbol Alpaca does not know is None; Alpaca not answering is a LookupFailed, said in words.
"""
from __future__ import annotations

from dataclasses import dataclass

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from intelligence.assets import DEFAULT_CALENDAR, company_alias
from intelligence.types import Asset
from providers.alpaca_data import AlpacaAccess, describe_failure
from providers.alpaca_http import prepare_client

# A symbol as Alpaca spells a US listing; anything else cannot be one and is not sent.
_US_SYMBOL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.")


class LookupFailed(Exception):
    """Alpaca could not be asked (outage, timeout, refused keys); the message carries no secret."""


@dataclass(frozen=True)
class LookedUp:
    symbol: str
    name: str
    asset_class: str  # ours: us_equity or crypto
    exchange: str
    tradable: bool
    fractionable: bool
    status: str

    def asset(self) -> Asset:
        """The catalogue entry: the company alias of Alpaca's name, the symbol as a bare ticker."""
        name = self.name or self.symbol
        alias = company_alias(name)
        return Asset(symbol=self.symbol, name=alias, aliases=(alias,), tickers=(self.symbol,) if len(self.symbol) >= 3 else (),
                     asset_class=self.asset_class, calendar=DEFAULT_CALENDAR[self.asset_class])


class AlpacaAssetLookup:
    def __init__(self, access: AlpacaAccess, paper: bool, trading_url: str | None) -> None:
        self._access = access
        self._client = prepare_client(TradingClient(access.key, access.secret, paper=paper, url_override=trading_url),
                                      (access.connect_timeout, access.read_timeout))

    def lookup(self, symbol: str) -> LookedUp | None:
        wanted = symbol.strip().upper()
        if not wanted or not set(wanted) <= _US_SYMBOL_CHARS:
            return None
        try:
            found = self._client.get_asset(wanted)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise LookupFailed(describe_failure(exc, self._access)) from None
        except Exception as exc:  # noqa: BLE001  (whatever alpaca-py raises is a failed lookup, said in words)
            raise LookupFailed(describe_failure(exc, self._access)) from None
        crypto = str(found.asset_class.value) == "crypto"
        return LookedUp(
            symbol=wanted, name=(found.name or "").strip(), asset_class="crypto" if crypto else "us_equity",
            exchange=str(found.exchange.value), tradable=bool(found.tradable), fractionable=bool(found.fractionable),
            status=str(found.status.value),
        )

    def close(self) -> None:
        self._client._session.close()
