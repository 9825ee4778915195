"""Draw the candidate texts of the news check set (tests/data/news_sentences_check.csv), seeded.

The texts are real: headlines and first sentences from ../shared/data/replay/spy_2018_2019 (Reuters,
Guardian, CNBC) and the embedded feeds (providers/embedded/feeds). This script only picks them; the
labels were then given by hand, following tests/data/news_sentences_check.md, before any model was
run on them. Prints `source,text` CSV in the order of the check set, then (source
"feed-summary-filter") the sentences the last nine rows were picked from by hand.

    .venv/bin/python scripts/sample_news_check.py > candidates.csv
"""
from __future__ import annotations

import csv
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from providers.feeds import read_feed_directory  # noqa: E402

# ../shared/data beside the checkout, or wherever TRACER_SHARED_DATA points (a worktree elsewhere).
SHARED_DATA = Path(os.environ.get("TRACER_SHARED_DATA") or ROOT.parent / "shared" / "data")
REPLAY = SHARED_DATA / "replay" / "spy_2018_2019"
SEED = 20251121
HEADLINE_SEED = 20260115  # the second draw (headline polarity), made after the first was labelled
HEADLINE_DRAW = (("reuters-headline", 70), ("guardian-headline", 50), ("cnbc-headline", 50))
CHECK_SET = ROOT / "tests" / "data" / "news_sentences_check.csv"
# Company-results words: a second Reuters stratum, so statements about measures are not rare.
RESULTS = re.compile(r"\b(profit|profits|sales|revenue|revenues|earnings|income|loss|losses|shares|stock|orders|"
                     r"dividend|margin|outlook|forecast)\b", re.I)
# Feed summaries that state a measured move; found by this filter, all of them kept.
MOVES = re.compile(r"\b(rose|increased|decreased|fell|grew|declined|up|down|rise|drop|profit|revenue|sales)\b", re.I)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")
# Class-action reminders repeat one template; three of them are enough.
TEMPLATE = "Shareholder Alert: ClaimsFiler Reminds Investors"


def _rows(name: str) -> list[dict[str, str]]:
    with (REPLAY / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def candidates() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    reuters = [r["headline"].strip() for r in _rows("reuters_headlines.csv") if r["headline"].strip()]
    guardian = [" ".join(r["Headlines"].split()) for r in _rows("guardian_headlines.csv") if r["Headlines"].strip()]
    cnbc = [SENTENCE.split(" ".join(r["Description"].split()))[0]
            for r in _rows("cnbc_headlines.csv") if (r.get("Description") or "").strip()]
    headlines = read_feed_directory(None).headlines
    press = sorted({h.title for h in headlines if h.source.lower().startswith("pr")})
    crypto = sorted({h.title for h in headlines if not h.source.lower().startswith("pr")})
    out: list[tuple[str, str]] = []

    def take(source: str, pool: list[str], n: int) -> None:
        for text in rng.sample(sorted(set(pool)), min(n, len(set(pool)))):
            out.append((source, text))

    take("reuters", reuters, 120)
    taken = {t for _, t in out}
    take("reuters-results", [t for t in reuters if RESULTS.search(t) and t not in taken], 80)
    take("guardian", guardian, 40)
    take("cnbc-description", cnbc, 40)
    take("prnewswire", press, 20)
    take("crypto-feeds", crypto, 20)
    alerts = [i for i, (s, t) in enumerate(out) if s == "prnewswire" and TEMPLATE in t]
    out = [row for i, row in enumerate(out) if i not in alerts[3:]]

    # The summaries were drawn in a second session, with a fresh generator under the same seed.
    firsts = sorted({(h.source, _first_sentence(h.summary)[:400]) for h in headlines if len(_first_sentence(h.summary)) > 30})
    out.extend(("feed-summary", t) for s, t in random.Random(SEED).sample(firsts, 40) if s != "PR Newswire")
    return out


def headline_draw() -> list[tuple[str, str]]:
    """Headlines only (the cycle scores titles), none already in the check set, no two alike."""
    with CHECK_SET.open(newline="", encoding="utf-8") as handle:
        known = {row["text"] for row in csv.DictReader(handle)}
    pools = {
        "reuters-headline": [r["headline"].strip() for r in _rows("reuters_headlines.csv")],
        "guardian-headline": [" ".join(r["Headlines"].split()) for r in _rows("guardian_headlines.csv")],
        "cnbc-headline": [" ".join((r.get("Headlines") or "").split()) for r in _rows("cnbc_headlines.csv")],
    }
    rng = random.Random(HEADLINE_SEED)
    out: list[tuple[str, str]] = []
    for source, n in HEADLINE_DRAW:
        pool = sorted({t for t in pools[source] if t and t not in known})
        out.extend((source, text) for text in rng.sample(pool, n))
        known.update(t for _, t in out)
    return out


def moved_measures() -> list[str]:
    """Feed-summary sentences that may state a measured move; the check set's last nine were picked
    by hand from these (a price or measure said to have moved), then labelled like the rest."""
    headlines = read_feed_directory(None).headlines
    found = [s for h in headlines for s in SENTENCE.split(" ".join(h.summary.split())) if MOVES.search(s) and re.search(r"\d", s)]
    return list(dict.fromkeys(found))


def _first_sentence(summary: str) -> str:
    return SENTENCE.split(" ".join(summary.split()))[0]


def main() -> int:
    writer = csv.writer(sys.stdout)
    writer.writerow(["source", "text"])
    if sys.argv[1:] == ["--headlines"]:
        writer.writerows(headline_draw())
        return 0
    writer.writerows(candidates())
    writer.writerows(("feed-summary-filter", text) for text in moved_measures())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
