from __future__ import annotations

from pathlib import Path

from providers.feeds import EMBEDDED_FEEDS_DIR, parse_feed, read_feed_directory
from tests.conftest import utc


def test_embedded_snapshots_give_every_item_with_utc_times(embedded_headlines) -> None:
    by_source: dict[str, int] = {}
    for h in embedded_headlines:
        by_source[h.source] = by_source.get(h.source, 0) + 1
    assert by_source == {"CoinDesk": 25, "Cointelegraph": 30, "Decrypt": 58, "PR Newswire": 20, "The Block": 19}
    assert max(h.published for h in embedded_headlines) == utc(2025, 12, 13, 10, 14)


def test_timezone_offsets_are_converted_to_utc(embedded_headlines) -> None:
    # The Block publishes with -0500: "Fri, 12 Dec 2025 17:33:11 -0500" is 22:33:11 UTC.
    fogo = next(h for h in embedded_headlines if h.title.startswith("Fogo cancels"))
    assert fogo.published == utc(2025, 12, 12, 22, 33, 11)


def test_cdata_titles_and_entities_are_clean_text(embedded_headlines) -> None:
    assert any(h.title == "Citadel Securities and DeFi Waging War of Words Through SEC Correspondence" for h in embedded_headlines)
    assert not any("<![CDATA[" in h.title or "&#39;" in h.title for h in embedded_headlines)


def test_malformed_feed_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "broken.rss"
    bad.write_text("<rss><channel><item><title>unterminated")
    batch = parse_feed("Broken", bad)
    assert batch.headlines == ()
    assert len(batch.problems) == 1 and batch.problems[0].where == "Broken"
    assert "malformed" in batch.problems[0].message


def test_feed_with_no_items_is_a_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.rss"
    empty.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    batch = parse_feed("Quiet", empty)
    assert batch.headlines == () and [p.message for p in batch.problems] == ["feed has no items"]


def test_items_without_a_date_are_skipped_and_counted(tmp_path: Path) -> None:
    feed = tmp_path / "partial.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>'
        "<item><title>Bitcoin rallies</title><pubDate>Fri, 12 Dec 2025 10:00:00 +0000</pubDate></item>"
        "<item><title>Undated story</title></item>"
        "<item><title></title><pubDate>Fri, 12 Dec 2025 11:00:00 +0000</pubDate></item>"
        "</channel></rss>"
    )
    batch = parse_feed("P", feed)
    assert [h.title for h in batch.headlines] == ["Bitcoin rallies"]
    assert "skipped 2 item(s)" in batch.problems[0].message


def test_directory_keeps_good_feeds_when_one_is_bad(tmp_path: Path) -> None:
    (tmp_path / "coindesk.rss").write_bytes((EMBEDDED_FEEDS_DIR / "coindesk.rss").read_bytes())
    (tmp_path / "garbage.rss").write_text("not a feed at all {")
    batch = read_feed_directory(tmp_path)
    assert len(batch.headlines) == 25 and {h.source for h in batch.headlines} == {"CoinDesk"}
    assert [p.where for p in batch.problems] == ["garbage"]


def test_missing_or_empty_directory_is_a_problem(tmp_path: Path) -> None:
    assert "does not exist" in read_feed_directory(tmp_path / "nope").problems[0].message
    assert "no feed files" in read_feed_directory(tmp_path).problems[0].message
