"""The asset catalogue from its files: the one shipped in the package, then the user's own (TB_ASSETS_FILE).

CSV, one asset per line: a line is a unit a reader can point at ("assets.csv: line 212: ..."), a diff
shows one asset per changed line, a spreadsheet opens it, and a user's own file can be a header and one
line. Columns (any order, by header; only the first three are required):

    symbol,name,asset_class,calendar,aliases,tickers,ambiguous,exclusions,context

Lists are separated by "|"; context terms are "term=weight". Lines starting with "#" are comments.
A malformed line stops the load with the file and the line (exit 2 at start): a catalogue that is
half read would silently drop assets.
"""
from __future__ import annotations

import csv
import difflib
import io
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from intelligence.assets import COLUMNS, REQUIRED, Catalogue, CatalogueFieldError, asset_from_fields
from intelligence.types import Asset

CATALOGUE_DIR = Path(__file__).parent / "embedded" / "catalogue"
SHIPPED_FILE = CATALOGUE_DIR / "assets.csv"
SHIPPED = "shipped"
LOOKED_UP = "alpaca lookup"


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the file and the line."""


def read_entries(path: Path) -> list[Asset]:
    """The entries of one catalogue file, in file order; CatalogueError on the first bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such catalogue file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(keepends=True), start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise CatalogueError(f"{path}: line 1: empty file, expected a header row ({','.join(REQUIRED)}, ...)")
    reader = csv.reader(io.StringIO("".join(line for _, line in numbered)), strict=True)
    rows: list[tuple[int, list[str]]] = []  # each record with the file line it starts on
    consumed = 0
    try:
        for row in reader:
            rows.append((numbered[consumed][0], row))
            consumed = reader.line_num
    except csv.Error as exc:
        line = numbered[min(consumed, len(numbered) - 1)][0]
        raise CatalogueError(f"{path}: line {line}: not readable as CSV ({exc})") from None
    return _entries(path, rows)


def _entries(path: Path, rows: list[tuple[int, list[str]]]) -> list[Asset]:
    header = [cell.strip().lower() for cell in rows[0][1]]
    where = f"{path}: line {rows[0][0]}"
    for column in header:
        if column not in COLUMNS:
            close = [c for c in COLUMNS if column and column in c] or difflib.get_close_matches(column, COLUMNS, n=1)
            raise CatalogueError(f"{where}: unknown column {column!r}" + (f" (did you mean {close[0]}?)" if close else "")
                                 + f"; columns are {','.join(COLUMNS)}")
    doubled = sorted({c for c in header if header.count(c) > 1})
    if doubled:
        raise CatalogueError(f"{where}: column(s) {', '.join(doubled)} appear twice in the header")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CatalogueError(f"{where}: missing column(s) {', '.join(missing)} (header is: {','.join(header)})")
    entries: list[Asset] = []
    first_line: dict[str, int] = {}
    for line, row in rows[1:]:
        where = f"{path}: line {line}"
        if len(row) != len(header):
            raise CatalogueError(f"{where}: expected {len(header)} fields like the header, found {len(row)}")
        try:
            asset = asset_from_fields(dict(zip(header, row)))
        except (CatalogueFieldError, ValueError) as exc:
            raise CatalogueError(f"{where}: {exc}") from None
        if asset.symbol in first_line:
            raise CatalogueError(f"{where}: {asset.symbol} is listed twice (first on line {first_line[asset.symbol]})")
        first_line[asset.symbol] = line
        entries.append(asset)
    if not entries:
        raise CatalogueError(f"{path}: no entries after the header")
    return entries


@lru_cache(maxsize=16)
def _cached_entries(path: Path, mtime_ns: int, size: int) -> tuple[Asset, ...]:
    return tuple(read_entries(path))


def _entries_of(path: Path) -> tuple[Asset, ...]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such catalogue file") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot be read ({exc})") from None
    return _cached_entries(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _built(user_file: Path | None, user_key: tuple[int, int] | None, remembered: tuple[Asset, ...]) -> Catalogue:
    shipped = _entries_of(SHIPPED_FILE)
    own = _entries_of(user_file) if user_file is not None else ()
    sources = {a.symbol: SHIPPED for a in shipped}
    sources |= {a.symbol: LOOKED_UP for a in remembered}
    sources |= {a.symbol: str(user_file) for a in own}
    return Catalogue((*shipped, *remembered, *own), sources)


def load_catalogue(user_file: Path | str | None = None, remembered: Iterable[Asset] = ()) -> Catalogue:
    """The shipped catalogue, then assets remembered from broker lookups, then the user's own file: a
    later entry with the same symbol replaces the earlier one whole. Built once per content."""
    path = Path(user_file) if user_file is not None else None
    key = None
    if path is not None:
        try:
            stat = path.stat()
        except OSError:
            raise CatalogueError(f"{path}: no such catalogue file (TB_ASSETS_FILE)") from None
        key = (stat.st_mtime_ns, stat.st_size)
    return _built(path.resolve() if path is not None else None, key, tuple(remembered))


# --- the catalogue in force ---------------------------------------------------------------------------
# Trading is asked about a symbol from many places (guards, brokers, the scheduler) that know nothing of
# the settings: the process's catalogue is set where the app reads its settings and its store, and the
# shipped one answers until then.
_in_force: Catalogue | None = None


def use_catalogue(catalogue: Catalogue) -> None:
    global _in_force
    _in_force = catalogue


def catalogue_in_force() -> Catalogue:
    return _in_force if _in_force is not None else load_catalogue()
