"""The asset catalogue is data: the shipped file, the user's own file, and every way a line can be wrong."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.assets import COLUMNS, Catalogue, CatalogueFieldError, asset_from_fields, company_alias
from providers.catalogue import CATALOGUE_DIR, LOOKED_UP, SHIPPED, CatalogueError, load_catalogue, read_entries

CATALOGUE = load_catalogue()
TEN = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "SPY")


def _write(tmp_path: Path, text: str, name: str = "mine.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- what ships ----------------------------------------------------------------------------------------


def test_every_sp500_constituent_is_in_the_catalogue_under_its_own_name() -> None:
    with (CATALOGUE_DIR / "sp500_constituents.csv").open(newline="", encoding="utf-8") as handle:
        constituents = list(csv.DictReader(handle))
    assert len(constituents) == 503
    for row in constituents:
        asset = CATALOGUE[row["Symbol"]]
        assert (asset.name, asset.asset_class, asset.calendar) == (row["Security"], "us_equity", "XNYS")
        assert asset.aliases, row["Symbol"]


def test_the_thirty_largest_coins_the_broad_funds_and_the_embedded_stocks_ship() -> None:
    coins = [a for a in CATALOGUE.values() if a.asset_class == "crypto"]
    assert len(coins) == 30 and all(a.calendar == "24/7" for a in coins)
    assert {s for s, a in CATALOGUE.items() if a.asset_class == "etf"} == {"SPY", "QQQ", "IWM", "DIA"}
    assert CATALOGUE["MSTR"].asset_class == CATALOGUE["COIN"].asset_class == "us_equity"
    assert len(CATALOGUE) == 503 + 30 + 4 + 1
    assert set(CATALOGUE.sources.values()) == {SHIPPED}


def test_the_ten_original_assets_kept_their_names_and_terms() -> None:
    assert all(CATALOGUE[s].asset_class == "crypto" for s in TEN[:-1]) and CATALOGUE["SPY"].asset_class == "etf"
    btc, spy, link = CATALOGUE["BTC"], CATALOGUE["SPY"], CATALOGUE["LINK"]
    assert btc.aliases == ("bitcoin", "bitcoins", "btc") and btc.tickers == ("BTC", "XBT")
    assert link.tickers == ("LINK",) and CATALOGUE["BNB"].aliases == ("bnb", "binance coin", "bnb chain")
    assert spy.name == "US stocks" and "wall street" in spy.ambiguous and "wolf of wall street" in spy.exclusions
    assert dict(btc.context)["saylor"] == 1.0 and dict(spy.context)["fed"] == 0.5
    # "memecoin" is listed for SOL (0.2) and DOGE (0.3) only: split between the two, as it always was.
    assert dict(CATALOGUE["SOL"].context)["memecoin"] == pytest.approx(0.1)
    assert dict(CATALOGUE["DOGE"].context)["memecoin"] == pytest.approx(0.15)


def test_no_new_entry_shares_a_context_term_with_the_original_ten() -> None:
    # Shared terms are split: a new entry listing one of theirs would change how the ten read the news.
    theirs = {t.lower() for s in TEN for t, _ in CATALOGUE[s].context}
    for symbol, asset in CATALOGUE.items():
        if symbol not in TEN:
            assert not theirs & {t.lower() for t, _ in asset.context}, symbol


def test_ordinary_words_among_company_names_need_context() -> None:
    for symbol, word in [("TGT", "Target"), ("V", "Visa"), ("BALL", "Ball"), ("XYZ", "Block"), ("ORCL", "Oracle"),
                         ("CARR", "Carrier"), ("MOS", "Mosaic"), ("MSTR", "Strategy")]:
        asset = CATALOGUE[symbol]
        assert word in asset.ambiguous and word not in asset.aliases, symbol


# --- the rule for company aliases ----------------------------------------------------------------------


@pytest.mark.parametrize("name, alias", [
    ("Apple Inc.", "Apple"), ("Alphabet Inc. (Class A)", "Alphabet"), ("Coca-Cola Company (The)", "Coca-Cola"),
    ("Deere & Company", "Deere"), ("KKR & Co.", "KKR"), ("Block, Inc.", "Block"), ("Ball Corporation", "Ball"),
    ("Linde plc", "Linde"), ("Chubb Limited", "Chubb"), ("News Corp (Class A)", "News"),
    ("SoFi Technologies, Inc. Common Stock", "SoFi Technologies"), ("3M", "3M"), ("eBay Inc.", "eBay"),
])
def test_company_aliases_come_from_the_name_by_rule(name: str, alias: str) -> None:
    assert company_alias(name) == alias


def test_a_row_with_only_the_required_columns_takes_the_defaults() -> None:
    stock = asset_from_fields({"symbol": "pltr", "name": "Palantir Technologies Inc.", "asset_class": "us_equity"})
    assert (stock.symbol, stock.aliases, stock.calendar, stock.tickers) == ("PLTR", ("Palantir Technologies",), "XNYS", ())
    coin = asset_from_fields({"symbol": "POL", "name": "Polygon", "asset_class": "crypto", "context": "matic|zkevm=0.5"})
    assert (coin.aliases, coin.calendar, coin.context) == (("polygon",), "24/7", (("matic", 1.0), ("zkevm", 0.5)))


@pytest.mark.parametrize("fields, message", [
    ({"symbol": "BTC USD", "name": "x", "asset_class": "crypto"}, "is not a ticker"),
    ({"symbol": "X", "name": "", "asset_class": "crypto"}, "the name is empty"),
    ({"symbol": "X", "name": "x", "asset_class": "stock"}, "asset_class 'stock' is not one of crypto, us_equity, etf"),
    ({"symbol": "X", "name": "x", "asset_class": "crypto", "calendar": "XNYS"}, "cannot trade on the XNYS calendar"),
    ({"symbol": "X", "name": "x", "asset_class": "etf", "calendar": "24/7"}, "cannot trade on the 24/7 calendar"),
    ({"symbol": "X", "name": "x", "asset_class": "crypto", "context": "halving=lots"}, "is not a number"),
    ({"symbol": "X", "name": "x", "asset_class": "crypto", "context": "halving=2"}, "not in (0, 1]"),
    ({"symbol": "X", "name": "x", "asset_class": "crypto", "context": "=0.5"}, "has no term"),
])
def test_a_field_that_cannot_be_used_says_why(fields: dict[str, str], message: str) -> None:
    with pytest.raises(CatalogueFieldError, match=message.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
        asset_from_fields(fields)


_TERM = st.text(st.characters(min_codepoint=32, max_codepoint=0x24F, blacklist_characters="|=,\"\n\r"),
                min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(aliases=st.lists(_TERM, max_size=4, unique=True), context=st.dictionaries(_TERM, st.floats(0.01, 1.0), max_size=3),
       equity=st.booleans())
def test_a_written_row_reads_back_as_the_same_entry(aliases: list[str], context: dict[str, float], equity: bool) -> None:
    fields = {"symbol": "ABC", "name": "Abc Holdings", "asset_class": "us_equity" if equity else "crypto",
              "aliases": "|".join(aliases), "context": "|".join(f"{t}={w!r}" for t, w in context.items())}
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS)
    writer.writeheader()
    writer.writerow(fields)
    again = asset_from_fields(next(csv.DictReader(io.StringIO(text.getvalue()))))
    assert again == asset_from_fields(fields)
    assert dict(again.context) == pytest.approx(context) and (not aliases or again.aliases == tuple(aliases))


# --- the user's own file (TB_ASSETS_FILE) ----------------------------------------------------------------


def test_the_users_file_adds_entries_and_replaces_shipped_ones_whole(tmp_path: Path) -> None:
    path = _write(tmp_path, "# my own entries\nsymbol,name,asset_class,aliases,tickers\n"
                            "POL,Polygon,crypto,polygon|matic,POL\n"
                            "AAPL,Apple (mine),us_equity,apple,\n")
    catalogue = load_catalogue(path)
    assert catalogue["POL"].asset_class == "crypto" and catalogue["POL"].tickers == ("POL",)
    assert catalogue["AAPL"].name == "Apple (mine)" and catalogue["AAPL"].context == ()  # replaced whole
    assert catalogue.sources["POL"] == catalogue.sources["AAPL"] == str(path.resolve()) and catalogue.sources["BTC"] == SHIPPED
    assert len(catalogue) == len(CATALOGUE) + 1


def test_remembered_lookups_sit_between_the_shipped_file_and_the_users(tmp_path: Path) -> None:
    sofi = asset_from_fields({"symbol": "SOFI", "name": "SoFi Technologies", "asset_class": "us_equity"})
    path = _write(tmp_path, "symbol,name,asset_class\nSOFI,SoFi (mine),us_equity\n")
    assert load_catalogue(None, [sofi]).sources["SOFI"] == LOOKED_UP
    assert load_catalogue(path, [sofi])["SOFI"].name == "SoFi (mine)"


@pytest.mark.parametrize("text, where", [
    ("symbol,name,asset_class\nPOL,Polygon,crypto\nPOL,Polygon again,crypto\n", "line 3: POL is listed twice (first on line 2)"),
    ("symbol,name,asset_class\n# a comment\n\nPOL,Polygon,crypto,extra\n", "line 4: expected 3 fields like the header, found 4"),
    ("symbol,name,asset_class\nPOL,Polygon,coin\n", "line 2: POL: asset_class 'coin' is not one of"),
    ("symbol,name,class\nPOL,Polygon,crypto\n", "line 1: unknown column 'class' (did you mean asset_class?)"),
    ("symbol,name\nPOL,Polygon\n", "line 1: missing column(s) asset_class"),
    ("symbol,name,asset_class,name\nPOL,Polygon,crypto,x\n", "line 1: column(s) name appear twice"),
    ("# only a comment\n", "line 1: empty file"),
    ("symbol,name,asset_class\n", "no entries after the header"),
    ('symbol,name,asset_class\nPOL,"Polygon,crypto\n', "not readable as CSV"),
])
def test_a_malformed_file_names_the_file_and_the_line(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CatalogueError) as err:
        read_entries(path)
    assert str(err.value).startswith(f"{path}: ") and where in str(err.value)


def test_a_missing_or_undecodable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no such catalogue file"):
        load_catalogue(tmp_path / "absent.csv")
    (tmp_path / "latin.csv").write_bytes("symbol,name,asset_class\nX,Caf\xe9,crypto\n".encode("latin-1"))
    with pytest.raises(CatalogueError, match="cannot be read as UTF-8"):
        read_entries(tmp_path / "latin.csv")


# --- looking things up ---------------------------------------------------------------------------------


def test_search_finds_symbols_names_and_aliases_in_any_case() -> None:
    assert [a.symbol for a in CATALOGUE.search("apple")][:1] == ["AAPL"]
    assert {"GOOGL", "GOOG"} <= {a.symbol for a in CATALOGUE.search("google")}
    assert CATALOGUE.search("btc")[0].symbol == "BTC" and CATALOGUE.search("no such thing anywhere") == []


@pytest.mark.parametrize("typed, meant", [("APPL", "AAPL"), ("AAPLL", "AAPL"), ("NVDIA", "NVDA"), ("AMZ", "AMZN"),
                                          ("BTCC", "BTC"), ("GOOGLE", "GOOGL"), ("MSTRR", "MSTR")])
def test_the_nearest_known_symbols_include_the_one_meant(typed: str, meant: str) -> None:
    assert meant in CATALOGUE.nearest(typed)


def test_nothing_is_near_a_symbol_like_no_other() -> None:
    assert CATALOGUE.nearest("ZZZZZZZ") == [] and isinstance(Catalogue([]).nearest("X"), list)
