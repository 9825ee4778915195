"""The unlabelled news the embedded model's student learns from: real headlines from ../shared/data.

Reuters, Guardian and CNBC headlines of the SPY 2018-2019 replay (read by the replay reader, so the
text is what the cycle scores: Reuters re-spacing undone, newlines folded), the first sentence of each
CNBC description, and the titles of the captured feeds. Left out: every text of the news check set
(tests/data/news_sentences_check.csv, in either spacing) and anything dated on or after 2019-07-01
(the held-out year; the shared files end before it, the guard keeps it so). Deduplicated, sorted.
"""
from __future__ import annotations

import csv
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from intelligence.types import normalize_text
from providers.feeds import parse_feed
from providers.replay_news import read_news, respace

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout, or wherever TRACER_SHARED_DATA points (a worktree elsewhere).
SHARED_DATA = Path(os.environ.get("TRACER_SHARED_DATA") or ROOT.parent / "shared" / "data")
CHECK_SET = ROOT / "tests" / "data" / "news_sentences_check.csv"
HELD_OUT_FROM = datetime(2019, 7, 1, tzinfo=timezone.utc)
REPLAY_FILES = ("reuters_headlines.csv", "guardian_headlines.csv", "cnbc_headlines.csv")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"])")
MIN_CHARS = 15  # "Business live", "Letters": section names, not news


def _key(text: str) -> str:
    return normalize_text(respace(text)).lower()


def check_set_keys(path: Path = CHECK_SET) -> set[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {_key(row["text"]) for row in csv.DictReader(handle)}


def unlabelled_news(shared: Path = SHARED_DATA) -> list[str]:
    excluded = check_set_keys()
    texts: list[str] = []
    for name in REPLAY_FILES:
        for headline in read_news(shared / "replay" / "spy_2018_2019" / name).headlines:
            if headline.published >= HELD_OUT_FROM:
                continue
            texts.append(headline.title)
            if headline.summary:
                texts.append(_SENTENCE.split(headline.summary)[0])
    for path in sorted((shared / "feeds").glob("*.rss")):
        texts.extend(h.title for h in parse_feed(path.stem, path).headlines)
    seen: set[str] = set()
    kept = []
    for text in texts:
        key = _key(text)
        if len(text) >= MIN_CHARS and key not in excluded and key not in seen:
            seen.add(key)
            kept.append(text)
    return sorted(kept)


if __name__ == "__main__":
    corpus = unlabelled_news()
    print(f"{len(corpus)} texts")
