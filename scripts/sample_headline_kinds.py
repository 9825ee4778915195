"""Draw the texts of the headline-kind check set (tests/data/headline_kinds.csv), seeded.

Real headlines, nothing edited: every distinct title of the embedded crypto feeds
(providers/embedded/feeds: CoinDesk, Cointelegraph, Decrypt, The Block), ten PR Newswire titles, and
random headlines from ../shared/data/replay/spy_2018_2019 (CNBC, Reuters, Guardian), published up to
2019-06-30 only. Each row gets a split: "dev" rows were read while the classifier's cues were written
and checked, "check" rows only scored (the figures held in tests/test_headline_kind.py). The labels
were given by hand, following tests/data/headline_kinds.md, before intelligence/headline_kind.py was
run on any of them. Prints `source,split,text` CSV in the order of the check set.

    .venv/bin/python scripts/sample_headline_kinds.py [--data ../shared/data/replay/spy_2018_2019] > candidates.csv
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

from providers.feeds import read_feed_directory  # noqa: E402
from providers.replay_news import read_news  # noqa: E402

REPLAY = ROOT.parent / "shared" / "data" / "replay" / "spy_2018_2019"
SEED = 20251214
# Held-out market news begins mid-2019: nothing published after this is ever read.
LAST = datetime(2019, 7, 1, tzinfo=timezone.utc)
DRAWS = (("cnbc", "cnbc_headlines.csv", 50), ("reuters", "reuters_headlines.csv", 60),
         ("guardian", "guardian_headlines.csv", 30))
EXTRA_CNBC = 60
LATER_DRAWS = (("cnbc", "cnbc_headlines.csv", 100), ("guardian", "guardian_headlines.csv", 50),
            ("reuters", "reuters_headlines.csv", 50))


def _replay_titles(path: Path) -> list[str]:
    return sorted({" ".join(h.title.split()) for h in read_news(path).headlines if h.published < LAST})


def candidates(replay: Path) -> list[tuple[str, str, str]]:
    rng = random.Random(SEED)
    rows: list[tuple[str, str]] = []
    headlines = read_feed_directory(None).headlines
    crypto = sorted({(h.source, " ".join(h.title.split())) for h in headlines if not h.source.startswith("PR")})
    rows += [(source.lower().replace(" ", ""), title) for source, title in crypto]
    press = sorted({" ".join(h.title.split()) for h in headlines if h.source.startswith("PR")})
    rows += [("prnewswire", t) for t in rng.sample(press, 10)]
    for source, name, n in DRAWS:
        rows += [(source, t) for t in rng.sample(_replay_titles(replay / name), n)]
    # A second CNBC draw, added after the first labels showed how rare speculation is elsewhere (CNBC
    # carries most of it); its own generator, so every earlier row and split stays as it was.
    drawn = {t for _, t in rows}
    rows += [("cnbc", t) for t in random.Random(SEED + 1).sample(
        [t for t in _replay_titles(replay / "cnbc_headlines.csv") if t not in drawn], EXTRA_CNBC)]
    seen: set[str] = set()
    out = []
    for source, text in rows:
        if text.lower() in seen:  # one outlet re-telling another's title is one text
            continue
        seen.add(text.lower())
        out.append((source, "dev", text))
    return out


def replay_draw(replay: Path, taken: set[str], seed: int, split: str) -> list[tuple[str, str, str]]:
    """CNBC, Guardian and Reuters headlines not drawn before."""
    rng = random.Random(seed)
    out = []
    for source, name, n in LATER_DRAWS:
        pool = [t for t in _replay_titles(replay / name) if t.lower() not in taken]
        out += [(source, split, t) for t in rng.sample(pool, n)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPLAY, help="the spy_2018_2019 replay folder")
    args = parser.parse_args()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["source", "split", "text"])
    rows = candidates(args.data)
    # The second draw was meant to be held out, but its errors were then used to revise the cues, so
    # it is development data too; the third was drawn after the last revision and only ever scored.
    rows += replay_draw(args.data, {t.lower() for _, _, t in rows}, SEED + 2, "dev")
    rows += replay_draw(args.data, {t.lower() for _, _, t in rows}, SEED + 3, "held-out")
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
