"""Draw the headlines of the company-mention check set (tests/data/company_mentions_check.csv), seeded.

Real headlines from ../shared/data/replay/spy_2018_2019 (Reuters, Guardian, CNBC titles) dated
2018-10-01 to 2019-05-31: after the months the catalogue's aliases were looked over on (January to
September 2018), and before mid-2019, where the held-out market news begins. Two parts:

- `random`: 400 headlines drawn at random. Every company of the catalogue they name was labelled by
  hand, before the matcher was run on them: the recall sample.
- `matched`: 150 headlines drawn at random from those the matcher (`--matched`, run once the random
  part was labelled) names at least one US company in: the precision sample, labelled the same way.

    .venv/bin/python scripts/sample_company_check.py            > random.csv
    .venv/bin/python scripts/sample_company_check.py --matched  > matched.csv
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from providers.replay_news import read_news  # noqa: E402

# ../shared beside the checkout (a worktree sits one level deeper: look up until it is found).
SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
REPLAY = SHARED / "replay" / "spy_2018_2019"
SEED = 20261202
START, END = datetime(2018, 10, 1, tzinfo=timezone.utc), datetime(2019, 6, 1, tzinfo=timezone.utc)
RANDOM_ROWS, MATCHED_ROWS = 400, 150


def headlines() -> list[tuple[str, str, str]]:
    """(source, date, title) of every distinct title in the window, in file order."""
    seen: dict[str, tuple[str, str, str]] = {}
    for name in ("reuters_headlines.csv", "guardian_headlines.csv", "cnbc_headlines.csv"):
        for h in read_news(REPLAY / name).headlines:
            if START <= h.published < END:
                seen.setdefault(h.title, (h.source.lower(), h.published.date().isoformat(), h.title))
    return list(seen.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matched", action="store_true", help="the precision part (needs the matcher)")
    args = parser.parse_args()
    every = headlines()
    rng = random.Random(SEED)
    drawn = rng.sample(every, RANDOM_ROWS)
    rows = [("random", *row) for row in drawn]
    if args.matched:
        from intelligence.relevance import Matcher
        from providers.catalogue import load_catalogue

        companies = [a for a in load_catalogue().values() if a.asset_class == "us_equity"]
        matcher = Matcher(companies)
        taken = {title for _, _, title in drawn}
        named = [row for row in every if row[2] not in taken
                 and any(m.named(True) for m in matcher.analyse(row[2]).values())]
        rows = [("matched", *row) for row in random.Random(SEED + 1).sample(named, MATCHED_ROWS)]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("sample", "source", "date", "text"))
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
