"""Cycle latency on the embedded defaults: cold (process start to first digest) and warm (the next cycles).

Cold: `tracer_bullet.py run --once` as a user starts it, in a fresh directory with a fresh SQLite
store: interpreter start, imports, schema creation, sentiment model load, one cycle, the digest
printed. Warm: what `serve` does every interval, in one process that has loaded the model and run
a first cycle already: another cycle where about 5% of the ~150 headlines are new (their titles
rewritten in a copy of the snapshot feeds) and the rest were seen before. Two placements of the
new headlines: spread over all five feeds (every feed file changed) and all in one feed (the
others unchanged, as when one outlet publishes between two cycles). Peak memory is per process.
Prints figures, asserts nothing. Run: .venv/bin/python bench/cycle_latency.py [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import ROOT, checked, clean_env, emit, load_average, median, run_child, self_peak_mb, use_product

NEW_SHARE = 0.05  # share of headlines a warm cycle has not seen before
_ITEM = re.compile(rb"<(item|entry)\b.*?</\1>", re.S)
_TITLE = re.compile(rb"(<title\b[^>]*>)(\s*<!\[CDATA\[)?(.*?)(\]\]>\s*)?(</title>)", re.S)


def _feed_items(directory: Path) -> list[tuple[Path, int]]:
    """(feed file, index of the item in it) for every item, files in name order."""
    found = []
    for path in sorted(directory.iterdir()):
        found.extend((path, i) for i in range(len(_ITEM.findall(path.read_bytes()))))
    return found


def rewrite_titles(directory: Path, chosen: list[tuple[Path, int]], tag: str) -> None:
    """New headlines: the chosen items' titles get a suffix (a new text, so a new story to score)."""
    by_file: dict[Path, set[int]] = {}
    for path, index in chosen:
        by_file.setdefault(path, set()).add(index)
    for path, indices in by_file.items():
        counter = iter(range(1 << 30))

        def item(match: re.Match[bytes], counter: Any = counter, indices: set[int] = indices) -> bytes:
            if next(counter) not in indices:
                return match.group(0)
            return _TITLE.sub(lambda t: t.group(1) + (t.group(2) or b"") + t.group(3) + f" ({tag})".encode()
                              + (t.group(4) or b"") + t.group(5), match.group(0), count=1)

        path.write_bytes(_ITEM.sub(item, path.read_bytes()))


def choose(items: list[tuple[Path, int]], placement: str, round_: int) -> list[tuple[Path, int]]:
    count = max(1, round(NEW_SHARE * len(items)))
    if placement == "one-feed":  # the feed with the most items, a different slice each round
        biggest = max({p for p, _ in items}, key=lambda p: sum(1 for q, _ in items if q == p))
        mine = [it for it in items if it[0] == biggest]
        start = (round_ * count) % max(1, len(mine) - count)
        return mine[start:start + count]
    step = len(items) // count
    return [items[(i * step + round_) % len(items)] for i in range(count)]


def worker(root: Path, work: Path, rounds: int, wal: bool) -> dict:
    """In one process, as serve: load once, a first cycle, then warm cycles with new headlines."""
    began = time.perf_counter()
    if wal:
        from sqlite_wal import enable

        enable()
    try:
        from bot.message_model import plain
        from bot.messages import digest_doc
        from pipeline.cycle import run_once
        from pipeline.data_sources import build_data_sources
        from service.chat_ops import DigestSnapshot
        from service.composition import utcnow

        def render(report: Any) -> str:
            return plain(digest_doc(DigestSnapshot(report.run_id, report.digest, None)))
    except ImportError:  # a checkout (--root) from before the rooms were split: app/ held the shell
        from app.cli_support import utcnow  # type: ignore[no-redef]
        from app.cycle import run_once  # type: ignore[no-redef]
        from app.data_sources import build_data_sources  # type: ignore[no-redef]
        from bot.render_text import render_digest

        def render(report: Any) -> str:
            return str(render_digest(report.digest))
    from config import load_settings
    from providers.sentiment_models import load_backend
    from storage.db import open_store

    settings = load_settings()
    sessions = open_store(settings.database_url)
    # A checkout from before TB_FINBERT_QUANTIZE (--root) has neither the setting nor the argument.
    quantize = {"quantize": True} if getattr(settings, "finbert_quantize", False) else {}
    loaded = load_backend(settings.sentiment_backend, settings.finbert_model, **quantize)
    sources = build_data_sources(settings, sessions, utcnow)
    setup = time.perf_counter() - began

    def cycle() -> tuple[float, int]:
        start = time.perf_counter()
        report = run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
        render(report)
        return time.perf_counter() - start, len(report.signals)

    first, signals = cycle()
    items = _feed_items(settings.feeds_dir)
    warm: dict[str, list[float]] = {"spread": [], "one-feed": []}
    for round_ in range(rounds):
        for placement in warm:
            rewrite_titles(settings.feeds_dir, choose(items, placement, round_), f"update {placement} {round_}")
            warm[placement].append(cycle()[0])
    return {"setup_seconds": setup, "first_cycle_seconds": first, "warm_seconds": warm, "signals": signals,
            "headlines": len(items), "new_per_cycle": len(choose(items, "spread", 0)),
            "backend": loaded.backend.name, "peak_mb": self_peak_mb()}


def _environment(scratch: Path) -> dict[str, str]:
    feeds = scratch / "feeds"
    from providers.feeds import EMBEDDED_FEEDS_DIR  # the snapshot this checkout ships

    shutil.copytree(EMBEDDED_FEEDS_DIR, feeds)
    return clean_env(TB_DATABASE_URL=f"sqlite:///{scratch / 'tracer_bullet.db'}", TB_ARTIFACTS_DIR=str(scratch / "artifacts"),
                     TB_FEEDS_DIR=str(feeds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="cold starts, and warm cycles per placement (medians)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    parser.add_argument("--wal", action="store_true",
                        help="SQLite in WAL mode with synchronous=NORMAL (what-if; the store default is rollback journal)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_product(args.root)
    if args.worker:
        print(json.dumps(worker(args.root, args.worker, args.repeat, args.wal)))
        return 0
    launcher = [str(Path(__file__).resolve().parent / "sqlite_wal.py")] if args.wal else []
    colds, cold_peaks, digest = [], [], ""
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            env = clean_env(TB_DATABASE_URL=f"sqlite:///{Path(scratch) / 'tracer_bullet.db'}",
                            TB_ARTIFACTS_DIR=str(Path(scratch) / "artifacts"))
            run = checked(run_child([sys.executable, *launcher, str(args.root / "tracer_bullet.py"), "run", "--once"], env,
                                    Path(scratch)), "run --once")
            colds.append(run.seconds)
            cold_peaks.append(run.peak_mb)
            digest = run.stdout
    with tempfile.TemporaryDirectory() as scratch:
        env = _environment(Path(scratch))
        run = checked(run_child([sys.executable, str(Path(__file__).resolve()), "--root", str(args.root),
                                 "--repeat", str(args.repeat), "--worker", scratch, *(["--wal"] if args.wal else [])],
                                env, Path(scratch)), "warm cycles")
        warm = json.loads(run.stdout.strip().splitlines()[-1])
    spread, one_feed = median(warm["warm_seconds"]["spread"]), median(warm["warm_seconds"]["one-feed"])
    cold = median(colds)
    headline = re.search(r"(\d+) headlines read", digest)
    result = {"cold_seconds": cold, "cold_peak_mb": median(cold_peaks), "warm_seconds": spread,
              "warm_one_feed_seconds": one_feed, "warm_ratio": cold / spread, "warm_one_feed_ratio": cold / one_feed,
              "first_cycle_in_process_seconds": warm["first_cycle_seconds"], "warm_peak_mb": run.peak_mb,
              "headlines": int(headline.group(1)) if headline else None, "signals": warm["signals"],
              "new_per_cycle": warm["new_per_cycle"], "backend": warm["backend"]}
    print(f"embedded defaults: {result['signals']} assets, {result['headlines']} headlines, sentiment backend "
          f"{result['backend']}{'; SQLite WAL + synchronous=NORMAL (what-if)' if args.wal else ''}; load {load_average()}")
    print(f"  cold: process start to first digest    median {cold:6.2f} s  (min {min(colds):.2f}, max {max(colds):.2f}, "
          f"n={len(colds)})  peak {result['cold_peak_mb']:.0f} MB   target < 15 s")
    print(f"  first cycle inside a started process          {warm['first_cycle_seconds']:6.3f} s "
          f"(model loaded, imports done: {warm['setup_seconds']:.2f} s before it)")
    for name, value, times in (("new headlines spread over all feeds", spread, warm["warm_seconds"]["spread"]),
                               ("new headlines in one feed", one_feed, warm["warm_seconds"]["one-feed"])):
        print(f"  warm, {warm['new_per_cycle']} of {warm['headlines']} new, {name:<36} median {value * 1000:6.1f} ms "
              f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})  cold/warm {cold / value:5.1f}x   "
              "targets < 1 s, >= 20x")
    print(f"  peak memory of the serving process after {1 + 2 * args.repeat} cycles: {run.peak_mb:.0f} MB")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
