"""Replay headline files: when each headline became known, and how bad rows are counted, never fatal."""
from __future__ import annotations

from pathlib import Path

import pytest

from providers.replay_news import NewsError, read_news, respace
from tests.conftest import utc

REPLAY = Path(__file__).resolve().parent / "data" / "replay"


def _find(news, fragment: str):
    return next(h for h in news.headlines if fragment in h.title)


def test_cnbc_times_are_us_eastern_with_daylight_saving() -> None:
    news = read_news(REPLAY / "cnbc_headlines.csv")
    assert news.source == "CNBC" and len(news.headlines) == news.rows == 194 and not news.skipped
    # " 7:04  PM ET Fri, 13 April 2018": daylight saving time, UTC-4.
    friday = _find(news, "Weekend jitters, not earnings, drove down JP Morgan")
    assert friday.published == utc(2018, 4, 13, 23, 4)
    assert friday.summary.startswith("Jim Cramer assesses J.P. Morgan")
    # " 7:00  PM ET Wed, 28 Feb 2018": before the switch on 11 March, UTC-5, so midnight UTC.
    winter = _find(news, "is an underdog, but it could be worth your while")
    assert winter.published == utc(2018, 3, 1, 0, 0)


@pytest.mark.parametrize(("stamp", "expected"), [
    (" 9:15  AM ET Mon, 10 Sept 2018", utc(2018, 9, 10, 13, 15)),  # CNBC writes September as "Sept"
    ("12:05  AM ET Sun, 4 Nov 2018", utc(2018, 11, 4, 4, 5)),  # the night clocks go back: still UTC-4
    ("12:30  PM ET Mon, 5 Nov 2018", utc(2018, 11, 5, 17, 30)),
])
def test_cnbc_time_formats(tmp_path: Path, stamp: str, expected) -> None:
    path = tmp_path / "cnbc.csv"
    path.write_text(f'Headlines,Time,Description\nStocks rally,"{stamp}",x\n', encoding="utf-8")
    assert read_news(path).headlines[0].published == expected


def test_guardian_dates_are_known_at_the_end_of_the_uk_day() -> None:
    news = read_news(REPLAY / "guardian_headlines.csv")
    rolls = _find(news, "Extra Rolls-Royce plane engine checks to disrupt flights")  # dated 13-Apr-18
    assert rolls.published == utc(2018, 4, 13, 23)  # midnight in London, British Summer Time
    winter = [h for h in news.headlines if h.published < utc(2018, 3, 20)]
    assert winter and all(h.published.hour == 0 for h in winter)  # GMT: midnight is midnight UTC


def test_guardian_bad_times_and_line_breaks_are_counted_not_fatal() -> None:
    news = read_news(REPLAY / "guardian_headlines.csv")
    assert news.rows == 920 and len(news.headlines) == 900
    # The real "Apr-18" rows (no day): skipped, counted, with their line numbers.
    assert news.skipped == {"rows with an unparseable time column": 20}
    assert news.examples["rows with an unparseable time column"][0] == 273
    assert news.repaired["headlines with line breaks (joined)"] > 0
    assert not any("\n" in h.title for h in news.headlines)
    assert "skipped 20 rows with an unparseable time column (e.g. line 273" in news.summary()


def test_reuters_dates_and_spacing() -> None:
    news = read_news(REPLAY / "reuters_headlines.csv")
    assert news.source == "Reuters" and len(news.headlines) == 1108
    ge = _find(news, "GE books")
    assert ge.title == "GE books USD 4.2 billion charge, restates earnings as expected"
    assert ge.published == utc(2018, 4, 14)  # dated 2018-04-13: known once that UTC day has ended
    assert not any(" , " in h.title or "U . S ." in h.title for h in news.headlines)


@pytest.mark.parametrize(("spaced", "plain"), [
    ("U . S . -China trade talks : where they are and what's at stake",
     "U.S.-China trade talks: where they are and what's at stake"),
    ("Ford to cut 12 , 000 jobs in Europe by end 2020", "Ford to cut 12,000 jobs in Europe by end 2020"),
    ("Exclusive : United Airlines in talks to buy wide-body jets - sources",
     "Exclusive: United Airlines in talks to buy wide-body jets - sources"),
    ("Is the rally over ?", "Is the rally over?"),
])
def test_respacing_real_reuters_titles(spaced: str, plain: str) -> None:
    assert respace(spaced) == plain


def test_blank_rows_short_rows_and_empty_titles_are_counted(tmp_path: Path) -> None:
    lines = (REPLAY / "reuters_headlines.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "reuters.csv"
    path.write_text("\n".join([lines[0], lines[1], "", ",", lines[2], "2018-04-13", "2018-04-13,", "13/04/2018,x"]) + "\n")
    news = read_news(path)
    assert len(news.headlines) == 2
    assert news.skipped == {
        "blank rows": 2, "rows with the wrong number of fields": 1, "rows without a headline": 1,
        "rows with an unparseable date column": 1,
    }


def test_unknown_format_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_text("Date,Open,High,Low,Close\n2018-01-02,1,1,1,1\n")
    with pytest.raises(NewsError, match="is not a known news format"):
        read_news(bars)
    with pytest.raises(NewsError, match="no such news file"):
        read_news(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(NewsError, match="empty file"):
        read_news(empty)
