"""A misdated feed item never dates the run (issue 13, finding 7).

One CoinDesk item edited to say 2099 used to make the whole snapshot run "as of 2099" and every
bar "648225 hours old" without naming the culprit. Now such an item is set aside, named under
DEGRADED, and as-of stays the newest believable headline. Real feed files, edited; a real cycle.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.message_model import plain
from bot.messages import digest_doc
from config import load_settings
from pipeline.cycle import run_once
from pipeline.data_sources import build_data_sources
from providers.bars import EmbeddedMarketData
from providers.feeds import EMBEDDED_FEEDS_DIR
from providers.sentiment_models import load_backend
from service.chat_ops import DigestSnapshot
from storage.db import open_store
from storage.models import HeadlineRow
from tests.conftest import utc
from tests.feed_server import FeedServer, Route

NOW = utc(2026, 11, 21, 9, 0)
AS_OF = utc(2025, 12, 13, 10, 14)  # the newest real headline of the snapshot
FIRST_DATE = "Fri, 12 Dec 2025 22:20:18 +0000"  # the first item of the shipped coindesk.rss
TITLE = "Citadel Securities and DeFi Waging War of Words Through SEC Correspondence"


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


def _snapshot_with(tmp_path: Path, date: str) -> Path:
    """The shipped feed files, CoinDesk's first item re-dated to `date`."""
    feeds = tmp_path / "feeds"
    shutil.copytree(EMBEDDED_FEEDS_DIR, feeds)
    coindesk = feeds / "coindesk.rss"
    text = coindesk.read_text(encoding="utf-8")
    assert text.count(FIRST_DATE) == 1 and TITLE in text
    coindesk.write_text(text.replace(FIRST_DATE, date), encoding="utf-8")
    return feeds


def _cycle(tmp_path: Path, backend, feeds_dir: Path, database_url: str):
    settings = load_settings(database_url=database_url, feeds_dir=feeds_dir, artifacts_dir=tmp_path / "artifacts")
    return run_once(settings, open_store(database_url), backend, (), EmbeddedMarketData(), NOW)


@pytest.mark.parametrize("date, why", [
    ("Thu, 01 Jan 2099 00:00:00 +0000", "after the wall clock"),
    ("Mon, 01 Jun 2026 12:00:00 +0000", "before the clock, but half a year after every other item"),
])
def test_a_misdated_item_is_set_aside_and_named_and_as_of_stays(tmp_path, backend, database_url, date, why) -> None:
    report = _cycle(tmp_path, backend, _snapshot_with(tmp_path, date), database_url)
    digest = report.digest
    assert digest.as_of == AS_OF, why
    assert digest.headline_count == 152 - 1 and digest.degraded
    [problem] = [p for p in digest.problems if p.startswith("news:")]
    assert "1 headline(s)" in problem and "CoinDesk" in problem and "Citadel Securities and DeFi" in problem
    assert date[12:16] in problem  # the year it claimed
    text = plain(digest_doc(DigestSnapshot(report.run_id, digest, None)))
    assert "DEGRADED" in text and "Citadel Securities and DeFi" in text
    assert not re.search(r"\d{4,} hours old", text)
    for signal in report.signals:
        assert signal.price.last_bar_end <= AS_OF


def test_the_unedited_snapshot_sets_nothing_aside(tmp_path, backend, database_url) -> None:
    report = _cycle(tmp_path, backend, _snapshot_with(tmp_path, FIRST_DATE), database_url)
    assert report.digest.as_of == AS_OF and not report.digest.degraded


def test_live_an_item_dated_far_ahead_is_neither_used_nor_kept(tmp_path, backend, database_url) -> None:
    live_now = utc(2025, 12, 13, 11, 0)
    server = FeedServer().start()
    try:
        body = (_snapshot_with(tmp_path, "Thu, 01 Jan 2099 00:00:00 +0000") / "coindesk.rss").read_bytes()
        server.routes["/coindesk"] = Route(body)
        settings = load_settings(database_url=database_url, news_sources="rss", feeds={"CoinDesk": server.url("/coindesk")},
                                 artifacts_dir=tmp_path / "artifacts")
        sessions = open_store(database_url)
        sources = build_data_sources(settings, sessions, lambda: live_now)
        try:
            report = run_once(settings, sessions, backend, (), sources.market, live_now, sources)
        finally:
            sources.close()
    finally:
        server.stop()
    assert report.digest.as_of == live_now and report.digest.headline_count == 25 - 1
    [problem] = [p for p in report.digest.problems if p.startswith("news:")]
    assert "set aside" in problem and "2099" in problem and "Citadel Securities and DeFi" in problem
    with sessions() as session:
        stored = list(session.scalars(select(HeadlineRow.title)))
    assert len(stored) == 24 and not any(t.startswith("Citadel Securities and DeFi") for t in stored)
