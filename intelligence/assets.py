"""The assets the product knows how to read news for: names, aliases, tickers and context terms.

Aliases and tickers say a headline names the asset. Context terms say what the asset's news is
about without naming it (a Fed decision is broad-market news; Vitalik Buterin is Ethereum news);
the relevance scorer weighs them. Names carry no digits: they appear in number-free evidence lines.
"""
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
    # The broad US market through its most traded fund. A broad-market headline names an index or
    # the market as a whole ("Wall Street", "the Dow", "U.S. stocks", "stock futures"); a bare
    # "stocks" is as often a sector ("bank stocks") or a stockpile, so it is a context term below.
    Asset(
        "SPY",
        "US stocks",
        aliases=(
            "s&p 500", "s&p500", "s&p", "s & p 500", "standard & poor's 500", "wall street", "wall st",
            "dow", "dow jones", "the dow", "nasdaq", "nasdaq composite", "russell 2000", "stock market",
            "stock markets", "us stocks", "u.s. stocks", "us equities", "u.s. equities", "american stocks",
            "us shares", "u.s. shares", "global stocks", "world stocks", "stock futures", "equity markets",
            "equity market", "blue chips", "blue-chip stocks",
        ),
        tickers=("SPY", "SPX", "DJIA", "VIX"),
    ),
)

CATALOGUE: dict[str, Asset] = {asset.symbol: asset for asset in _ASSETS}

# Aliases that name the asset only when the text is also about it: "Wall Street" is the stock
# market in "Wall Street tumbles on trade fears" and the finance industry in "Saudi crown prince to
# sit down with Wall Street". A text naming the asset by these alone needs some context term too.
AMBIGUOUS_ALIASES: dict[str, tuple[str, ...]] = {
    "SPY": ("wall street", "wall st", "stock market", "stock markets", "global stocks", "world stocks"),
}

# Phrases that contain an alias but name something else: the rating agency, a chemicals company,
# the exchange operator's corporate news. They are blanked before aliases are matched.
ALIAS_EXCLUSIONS: dict[str, tuple[str, ...]] = {
    "SPY": (
        "s&p global", "s&p rating", "s&p ratings", "s&p cuts", "s&p downgrades", "s&p upgrades", "s&p affirms", "s&p lowers",
        "s&p raises", "s&p revises", "s&p says", "dow chemical", "dowdupont", "dow dupont", "nasdaq-listed",
        "nasdaq listing", "nasdaq debut", "nasdaq ipo", "wall street journal", "wall street bank",
        "wall street banks", "wall street firms", "wall street analysts", "wall street estimates",
        "wall street expectations", "wall street's expectations", "wall street veteran", "wall street watchdog",
        "convince wall street", "stock market value", "stock market debut", "stock market listing",
        "stock market flotation", "stock market launch", "wolf of wall street",
    ),
}

# Context terms per asset and how much each says on its own (1 = as telling as a name; 0.3 = a
# hint that needs company). Terms shared by several assets are split between them by the scorer.
CONTEXT_TERMS: dict[str, dict[str, float]] = {
    "BTC": {
        "crypto market": 0.5, "cryptocurrency market": 0.5, "crypto": 0.3, "cryptocurrency": 0.3,
        "saylor": 1.0, "microstrategy": 0.8, "halving": 1.0, "satoshi": 1.0, "lightning network": 1.0,
        "digital gold": 1.0, "ibit": 1.0, "miners": 0.4, "hashrate": 1.0, "hash rate": 1.0,
    },
    "ETH": {
        "vitalik": 1.0, "buterin": 1.0, "defi": 0.4, "staking": 0.4, "layer 2": 0.6, "layer-2": 0.6,
        "fusaka": 1.0, "pectra": 1.0, "arbitrum": 0.6, "erc-20": 0.8, "bitmine": 0.8, "sharplink": 1.0,
    },
    "SOL": {"firedancer": 1.0, "raydium": 1.0, "pump.fun": 0.8, "jupiter": 0.5, "phantom": 0.5, "memecoin": 0.2},
    "XRP": {"xrpl": 1.0, "garlinghouse": 1.0, "rlusd": 1.0},
    "DOGE": {"memecoin": 0.3, "meme coin": 0.3, "shiba": 0.4, "elon musk": 0.3},
    "ADA": {"hoskinson": 1.0},
    "AVAX": {"ava labs": 1.0, "subnet": 0.8, "subnets": 0.8},
    "LINK": {"ccip": 1.0, "nazarov": 1.0, "oracle network": 0.8},
    "BNB": {"binance": 0.5, "changpeng zhao": 0.8, "bsc": 1.0},
    "SPY": {
        "stocks": 0.6, "equities": 0.6, "shares": 0.2, "index": 0.3, "indexes": 0.4, "indices": 0.4,
        "benchmark": 0.3, "futures": 0.3, "rally": 0.3, "sell-off": 0.4, "selloff": 0.4, "rout": 0.4,
        "correction": 0.3, "bear market": 0.6, "bull market": 0.6, "record high": 0.4, "all-time high": 0.4,
        "volatility": 0.3, "investors": 0.2, "fed": 0.5, "federal reserve": 0.5, "powell": 0.5,
        "interest rates": 0.4, "rate hike": 0.5, "rate cut": 0.5, "rate hikes": 0.5, "rate cuts": 0.5,
        "treasury": 0.3, "treasuries": 0.3, "yields": 0.4, "bond": 0.2, "recession": 0.5, "economy": 0.3,
        "gdp": 0.4, "jobs report": 0.6, "payrolls": 0.5, "unemployment": 0.3, "inflation": 0.4,
        "tariffs": 0.3, "tariff": 0.3, "trade war": 0.4, "trade talks": 0.3, "trade deal": 0.3,
        "u.s.": 0.2, "earnings season": 0.5, "government shutdown": 0.4, "shutdown": 0.2,
        "margin debt": 0.5, "buybacks": 0.3,
        # How market reports move: alone they could be any price, beside "stocks" they are the market.
        **dict.fromkeys((
            "rise", "rises", "rising", "fall", "falls", "falling", "slide", "slides", "tumble", "tumbles",
            "tumbling", "rallies", "jump", "jumps", "slump", "slumps", "surge", "surges", "gain", "gains",
            "climb", "climbs", "sink", "sinks", "drop", "drops", "rebound", "rebounds", "higher", "lower",
            "slips", "advances", "losses", "nosedives", "record",
        ), 0.25),
    },
}
