"""Historical headline files for replay, each headline stamped with the moment it became known.

Formats (detected by header, case-insensitively), as under ../shared/data/replay:
- CNBC `Headlines,Time,Description`, Time like " 7:51  PM ET Fri, 17 July 2020" (US Eastern): known
  at that instant.
- Guardian `Time,Headlines`, Time like "18-Jul-20" (a UK date, no time of day): known at the end of
  that day in London.
- Reuters `date,headline`, an ISO date with no zone: known at the end of that day in UTC, the
  convention under which the bar files' calendar dates are read. Whatever zone the date was
  written in (UK or US), that moment lies before the next US session opens, so a replay that trades
  at the next open never trades on a story before it existed. Its punctuation was re-spaced by
  the uploader ("U . S . stocks , bonds"); it is put back so models read ordinary text.

Bad rows are real in these files: blank rows, a Guardian time like "Jul-18" with no day, headlines
with line breaks inside. Each is counted by kind (with its first lines) and never stops the read;
a file that is not one of the formats, or unreadable, is a `NewsError` naming the file.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import _csv

from intelligence.types import Headline, normalize_text

EASTERN = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
MAX_EXAMPLES = 3  # line numbers kept per kind of bad row


class NewsError(ValueError):
    """A news file that cannot be read at all; the message names the file and why."""


@dataclass
class NewsFile:
    path: Path
    source: str
    headlines: list[Headline]
    rows: int = 0  # data rows seen, good or bad
    skipped: Counter[str] = field(default_factory=Counter)  # kind of bad row -> count
    repaired: Counter[str] = field(default_factory=Counter)  # kind of repair -> rows repaired
    examples: dict[str, list[int]] = field(default_factory=dict)  # kind -> first line numbers

    def note(self, counter: Counter[str], kind: str, line: int) -> None:
        counter[kind] += 1
        seen = self.examples.setdefault(kind, [])
        if len(seen) < MAX_EXAMPLES:
            seen.append(line)

    def summary(self) -> str:
        parts = [f"{self.path.name} ({self.source}): {len(self.headlines)} headlines from {self.rows} rows"]
        for kind, count in sorted(self.skipped.items()):
            parts.append(f"skipped {count} {kind} (e.g. line {', '.join(map(str, self.examples[kind]))})")
        for kind, count in sorted(self.repaired.items()):
            parts.append(f"repaired {count} {kind}")
        return "; ".join(parts)


@dataclass(frozen=True)
class _Format:
    source: str
    title: str
    time: str
    summary: str | None


FORMATS = (
    _Format("CNBC", "headlines", "time", "description"),
    _Format("Guardian", "headlines", "time", None),
    _Format("Reuters", "headline", "date", None),
)

_CNBC_TIME = re.compile(
    r"^\s*(\d{1,2}):(\d{2})\s*([AP]M)\s+ET\s+\w{3},\s+(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})\s*$", re.IGNORECASE
)
_INITIALS = re.compile(r"(?<![A-Za-z])(?:[A-Z] \. )+")
_SPACED_NUMBER = re.compile(r"(?<=\d) ([.,]) (?=\d)")
_SPACED_HYPHEN = re.compile(r"(?<=\.) -(?=[A-Za-z])")
_SPACED_MARK = re.compile(r" ([,:;?!.]) ")
_SPACED_END = re.compile(r" ([,:;?!.])$")


def read_news(path: Path) -> NewsFile:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _read(path, csv.reader(handle))
    except FileNotFoundError:
        raise NewsError(f"{path}: no such news file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NewsError(f"{path}: not a readable CSV file ({exc})") from None


def _detect(path: Path, header: list[str]) -> tuple[_Format, dict[str, int]]:
    names = [cell.strip().lower() for cell in header]
    for fmt in FORMATS:
        wanted = [fmt.title, fmt.time] + ([fmt.summary] if fmt.summary else [])
        if sorted(names) == sorted(wanted):
            return fmt, {name: names.index(name) for name in wanted}
    raise NewsError(
        f"{path}: line 1: header {','.join(header)!r} is not a known news format "
        "(CNBC Headlines,Time,Description; Guardian Time,Headlines; Reuters date,headline)"
    )


def _read(path: Path, reader: "_csv.Reader") -> NewsFile:
    header = next(reader, None)
    if not header:
        raise NewsError(f"{path}: line 1: empty file, expected a header row")
    fmt, columns = _detect(path, header)
    news = NewsFile(path, fmt.source, [])
    for row in reader:
        line = reader.line_num
        news.rows += 1
        if not row or all(not cell.strip() for cell in row):
            news.note(news.skipped, "blank rows", line)
            continue
        if len(row) != len(header):
            news.note(news.skipped, "rows with the wrong number of fields", line)
            continue
        raw_title = row[columns[fmt.title]]
        if "\n" in raw_title.strip() or "\r" in raw_title.strip():
            news.note(news.repaired, "headlines with line breaks (joined)", line)
        title = normalize_text(raw_title)
        if fmt.source == "Reuters":
            fixed = respace(title)
            if fixed != title:
                news.repaired["Reuters re-spaced punctuation"] += 1
            title = fixed
        if not title:
            news.note(news.skipped, "rows without a headline", line)
            continue
        known = _known_at(fmt.source, row[columns[fmt.time]])
        if known is None:
            news.note(news.skipped, f"rows with an unparseable {fmt.time} column", line)
            continue
        summary = normalize_text(row[columns[fmt.summary]]) if fmt.summary else ""
        news.headlines.append(Headline(fmt.source, title, known, summary=summary))
    return news


def respace(text: str) -> str:
    """Undo the uploader's spacing: "U . S . -China yields , bonds : USD 4 . 2 billion" ->
    "U.S.-China yields, bonds: USD 4.2 billion". The possessive "U . S . 's" becomes "U.S. 's": rare, and harmless."""
    text = _SPACED_NUMBER.sub(r"\1", text)  # "USD 4 . 2 billion", "20 , 000 jobs"
    text = _INITIALS.sub(lambda m: m.group(0).replace(" ", "") + " ", text)
    text = _SPACED_HYPHEN.sub("-", text)  # "U.S. -China" -> "U.S.-China"
    text = _SPACED_MARK.sub(r"\1 ", text)
    text = _SPACED_END.sub(r"\1", text)
    return normalize_text(text)


@lru_cache(maxsize=4096)  # thousands of rows share a few hundred dates
def _known_at(source: str, text: str) -> datetime | None:
    text = text.strip()
    try:
        if source == "CNBC":
            return _cnbc_time(text)
        if source == "Guardian":
            return _end_of_day(datetime.strptime(text, "%d-%b-%y").date(), LONDON)
        return _end_of_day(date.fromisoformat(text), timezone.utc)
    except ValueError:
        return None


def _cnbc_time(text: str) -> datetime:
    match = _CNBC_TIME.match(text)
    if not match:
        raise ValueError(text)
    hour, minute, half, day, month, year = match.groups()
    clock = datetime.strptime(f"{int(hour)}:{minute} {half.upper()}", "%I:%M %p").time()
    month_number = datetime.strptime(month[:3].title(), "%b").month
    local = datetime.combine(date(int(year), month_number, int(day)), clock, EASTERN)
    return local.astimezone(timezone.utc)


def _end_of_day(day: date, zone: ZoneInfo | timezone) -> datetime:
    """The first instant of the next day in `zone`: everything dated `day` is known by then."""
    return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
