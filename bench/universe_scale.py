"""A real watchlist's scale: the S&P 500 and the 30 largest coins over thousands of real headlines.

Relevance (in this process): 5,000 real headlines (the Reuters, Guardian and CNBC titles and CNBC
descriptions of ../shared/data/replay/spy_2018_2019, dated 2018: no held-out months) against universes
of 10, 100, 265 and 533 assets (the S&P 500 and the coins, shuffled with a fixed seed; each smaller
universe is a prefix of the next). Cold: a new matcher, nothing remembered; warm: the same texts
again. 265 -> 533 is the doubling, measured side by side in this run.

Cycle (one child process per universe size, as `serve` runs it): the same 5,000 headlines as feed
files (TB_FEEDS_DIR) and daily bars for every asset (TB_BARS_DIR): each stock gets the real SPY daily
bars of the replay folder and each coin the real BTC-USD daily bars of ../shared/data/bars, under its
own symbol (real prices, relabelled: what is measured is cost, not signal quality). Cold: `run --once`
in a fresh directory and store, process start to digest (imports, sentiment model load, every
relevant headline scored). Warm: in one process that ran a first cycle, another cycle after 5% of
the headlines were rewritten (95% seen before). Peak memory is each child's maximum RSS.

Wall and CPU time are both printed: on a shared 2-core machine the wall time is mostly other
processes' load (printed too), the CPU time this product's own work. Most of a cold cycle's CPU is
the sentiment model scoring every relevant headline once (about 1,100 at 533 assets); most of a warm
one's is scoring the 5% new ones.

Prints figures, asserts nothing. Reads ../shared/data. Run: .venv/bin/python bench/universe_scale.py
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from intelligence.types import Headline

from measure import ROOT, checked, clean_env, emit, load_average, median, run_child, self_peak_mb, use_product

SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
REPLAY = SHARED / "replay" / "spy_2018_2019"
STOCK_BARS = REPLAY / "spy_daily.csv"
COIN_BARS = SHARED / "bars" / "BTC-USD_daily_2014-09-17_2022-03-01.csv"
HEADLINES = 5000
SIZES = (10, 100, 265, 533)
CYCLE_SIZES = (10, 100, 533)
SEED = 20261202
NEW_SHARE = 0.05


def real_headlines(count: int) -> list[Headline]:
    """`count` distinct real 2018 texts, newest last; CNBC descriptions count as texts of their own."""
    from intelligence.types import Headline
    from providers.replay_news import read_news

    texts: dict[str, Headline] = {}
    for name in ("reuters_headlines.csv", "guardian_headlines.csv", "cnbc_headlines.csv"):
        for h in read_news(REPLAY / name).headlines:
            if h.published.year == 2018:
                texts.setdefault(h.title, Headline(h.source, h.title, h.published))
                if h.summary:
                    texts.setdefault(h.summary, Headline(h.source, h.summary, h.published))
    chosen = random.Random(SEED).sample(sorted(texts.values(), key=lambda h: (h.published, h.title)), count)
    return sorted(chosen, key=lambda h: (h.published, h.title))


def universe(size: int) -> list[str]:
    from providers.catalogue import load_catalogue

    catalogue = load_catalogue()
    symbols = sorted(s for s, a in catalogue.items() if a.asset_class in ("us_equity", "crypto") and s != "MSTR")
    random.Random(SEED).shuffle(symbols)
    return symbols[:size]


# --- relevance, in this process ----------------------------------------------------------------------


def _timed(work: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def relevance_figures(repeat: int) -> dict[str, dict[str, float]]:
    """Per universe size: building the matcher (once per process and universe), reading 5,000 headlines
    with it (cold: nothing remembered) and reading them again (warm). Wall and CPU seconds, best of
    `repeat` (on a shared 2-core machine the CPU time is the figure other processes disturb least)."""
    from intelligence.relevance import Matcher
    from providers.catalogue import load_catalogue

    catalogue = load_catalogue()
    headlines = real_headlines(HEADLINES)
    figures: dict[str, dict[str, float]] = {}
    for size in SIZES:
        assets = [catalogue[s] for s in universe(size)]
        runs = []
        found = 0
        for _ in range(repeat):
            build = _timed(partial(Matcher, assets))
            matcher: Matcher = build[2]  # type: ignore[assignment]
            cold = _timed(partial(matcher.mentions, headlines))
            warm = _timed(partial(matcher.mentions, headlines))
            runs.append((build, cold, warm))
            found = sum(len(v) for v in matcher.mentions(headlines).values())
        figures[str(size)] = {
            "build_seconds": min(r[0][0] for r in runs), "build_cpu_seconds": min(r[0][1] for r in runs),
            "cold_seconds": min(r[1][0] for r in runs), "cold_cpu_seconds": min(r[1][1] for r in runs),
            "warm_seconds": min(r[2][0] for r in runs), "warm_cpu_seconds": min(r[2][1] for r in runs),
            "mentions": found,
        }
    return figures


# --- the cycle, in child processes --------------------------------------------------------------------


def write_feeds(directory: Path, headlines: Sequence[Headline], tag: str = "") -> None:
    """The headlines as RSS 2.0 files, one per source (the embedded feed reader's format)."""
    directory.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[Headline]] = {}
    for h in headlines:
        by_source.setdefault(h.source, []).append(h)
    for source, items in by_source.items():
        rewritten = _rewritten(len(items), tag)
        body = "".join(
            f"<item><title>{escape(h.title + (tag if i in rewritten else ''))}</title>"
            f"<link>https://example.com/{source}/{i}</link><pubDate>{format_datetime(h.published)}</pubDate></item>"
            for i, h in enumerate(items))
        (directory / f"{source.lower()}.rss").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{source}</title>'
            f"<link>https://example.com</link><description>replay</description>{body}</channel></rss>", encoding="utf-8")


def _rewritten(count: int, tag: str) -> set[int]:
    if not tag:
        return set()
    step = max(1, round(1 / NEW_SHARE))
    offset = sum(map(ord, tag)) % step
    return set(range(offset, count, step))


def write_bars(directory: Path, symbols: list[str]) -> None:
    from providers.catalogue import load_catalogue

    catalogue = load_catalogue()
    directory.mkdir(parents=True, exist_ok=True)
    for symbol in symbols:
        source = COIN_BARS if catalogue[symbol].asset_class == "crypto" else STOCK_BARS
        shutil.copyfile(source, directory / f"{symbol}_1d.csv")


def cycle_worker(work: Path, size: int) -> dict[str, float]:
    """As serve: load once, a first cycle, then warm cycles with 5% new headlines."""
    from service.composition import utcnow
    from config import load_settings
    from pipeline.cycle import run_once
    from pipeline.data_sources import build_data_sources
    from providers.sentiment_models import load_backend
    from storage.db import open_store

    settings = load_settings()
    sessions = open_store(settings.database_url)
    loaded = load_backend(settings.sentiment_backend, settings.finbert_model)
    sources = build_data_sources(settings, sessions, utcnow)
    headlines = real_headlines(HEADLINES)

    def cycle() -> tuple[float, float, int, int]:
        began, cpu = time.perf_counter(), time.process_time()
        report = run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
        return time.perf_counter() - began, time.process_time() - cpu, len(report.signals), report.digest.headline_count

    first, _, signals, read = cycle()
    warm, warm_cpu = [], []
    for round_ in range(3):
        write_feeds(work / "feeds", headlines, f" (update {round_})")
        seconds, cpu, _, _ = cycle()
        warm.append(seconds)
        warm_cpu.append(cpu)
    return {"first_seconds": first, "warm_seconds": median(warm), "warm_cpu_seconds": median(warm_cpu),
            "signals": signals, "headlines": read, "peak_mb": self_peak_mb()}


def cycle_figures(python: str) -> dict[str, dict[str, float]]:
    headlines = real_headlines(HEADLINES)
    figures: dict[str, dict[str, float]] = {}
    for size in CYCLE_SIZES:
        symbols = universe(size)
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            write_feeds(work / "feeds", headlines)
            write_bars(work / "bars", symbols)
            env = clean_env(TB_UNIVERSE=",".join(symbols), TB_FEEDS_DIR=str(work / "feeds"), TB_BARS_DIR=str(work / "bars"),
                            TB_DATABASE_URL=f"sqlite:///{work / 'cold.db'}", TB_ARTIFACTS_DIR=str(work / "artifacts"),
                            TB_SENTIMENT_BACKEND="embedded")
            cold = checked(run_child([python, str(ROOT / "tracer_bullet.py"), "run", "--once"], env, work), "run --once")
            env["TB_DATABASE_URL"] = f"sqlite:///{work / 'warm.db'}"
            worker = checked(run_child([python, str(Path(__file__).resolve()), "--worker", str(work), "--size", str(size)],
                                       env, work), "warm cycles")
            result = json.loads(worker.stdout.strip().splitlines()[-1])
            figures[str(size)] = {"cold_seconds": cold.seconds, "cold_cpu_seconds": cold.cpu_seconds,
                                  "cold_peak_mb": cold.peak_mb, "warm_seconds": result["warm_seconds"],
                                  "warm_cpu_seconds": result["warm_cpu_seconds"], "warm_peak_mb": worker.peak_mb,
                                  "first_in_process_seconds": result["first_seconds"], "signals": result["signals"],
                                  "headlines": result["headlines"]}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    parser.add_argument("--skip-cycle", action="store_true", help="relevance only")
    parser.add_argument("--repeat", type=int, default=5, help="relevance runs per universe size (best kept)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_product(args.root)
    if args.worker:
        print(json.dumps(cycle_worker(args.worker, args.size)))
        return 0
    print(f"universe scale: {HEADLINES} real 2018 headlines; load {load_average()}")
    relevance = relevance_figures(args.repeat)
    print(f"  relevance of {HEADLINES} headlines (one matcher for every name), best of {args.repeat}, wall (CPU) ms:")
    for size, f in relevance.items():
        print(f"    {int(size):4d} assets: build {f['build_seconds'] * 1000:6.1f} ({f['build_cpu_seconds'] * 1000:5.1f})"
              f"   read cold {f['cold_seconds'] * 1000:6.1f} ({f['cold_cpu_seconds'] * 1000:5.1f})"
              f"   warm {f['warm_seconds'] * 1000:5.1f} ({f['warm_cpu_seconds'] * 1000:5.1f})   {f['mentions']:5.0f} mentions"
              + ("   target < 500 ms" if size == "533" else ""))
    ratios = {key: relevance["533"][key] / relevance["265"][key] for key in ("cold_seconds", "cold_cpu_seconds")}
    growth = relevance["533"]["cold_cpu_seconds"] / relevance["10"]["cold_cpu_seconds"]
    print(f"    doubling the assets (265 -> 533), reading cold: {ratios['cold_seconds']:.2f}x wall, "
          f"{ratios['cold_cpu_seconds']:.2f}x CPU   (target < 1.3x); 10 -> 533 assets: {growth:.2f}x CPU")
    result: dict[str, object] = {"relevance": relevance, "relevance_doubling_ratio": ratios["cold_seconds"],
                                 "relevance_doubling_cpu_ratio": ratios["cold_cpu_seconds"]}
    if not args.skip_cycle:
        cycles = cycle_figures(sys.executable)
        print("  cycle, assets -> cold (process start to digest) / warm (95% of headlines seen), wall (CPU) s, peak memory:")
        for size, f in cycles.items():
            print(f"    {int(size):4d} assets ({f['signals']:.0f} signals, {f['headlines']:.0f} headlines): cold "
                  f"{f['cold_seconds']:6.2f} ({f['cold_cpu_seconds']:5.2f})   warm {f['warm_seconds']:6.3f} "
                  f"({f['warm_cpu_seconds']:5.3f})   peak {max(f['cold_peak_mb'], f['warm_peak_mb']):5.0f} MB"
                  + ("   targets < 30 s, < 2 s, < 1024 MB" if size == "533" else ""))
        print(f"  load at the end: {load_average()}")
        result["cycle"] = cycles
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
