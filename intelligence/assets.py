"""The assets the product knows how to read news for: names, aliases and tickers."""
from __future__ import annotations

from intelligence.types import Asset

_ASSETS = (
    Asset("BTC", "Bitcoin", aliases=("bitcoin", "bitcoins", "btc"), tickers=("BTC", "XBT")),
    Asset("ETH", "Ethereum", aliases=("ethereum", "ether", "eth"), tickers=("ETH",)),
    Asset("SOL", "Solana", aliases=("solana",), tickers=("SOL",)),
    Asset("XRP", "XRP", aliases=("xrp", "ripple"), tickers=("XRP",)),
    Asset("DOGE", "Dogecoin", aliases=("dogecoin", "doge"), tickers=("DOGE",)),
    Asset("ADA", "Cardano", aliases=("cardano",), tickers=("ADA",)),
    Asset("AVAX", "Avalanche", aliases=("avalanche", "avax"), tickers=("AVAX",)),
    Asset("LINK", "Chainlink", aliases=("chainlink",), tickers=("LINK",)),
    Asset("BNB", "BNB", aliases=("bnb", "binance coin", "bnb chain"), tickers=("BNB",)),
)

CATALOGUE: dict[str, Asset] = {asset.symbol: asset for asset in _ASSETS}
