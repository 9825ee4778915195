"""Replay of the shared SPY 2018-2019 data, cold (empty score cache) and warm: prints counts and timings.

Reads ../shared/data (not in a fresh clone). Usage, from the repository root:

    .venv/bin/python bench/replay_spy.py [--data ../shared/data/replay/spy_2018_2019] [--out DIR]

Each run is a separate process, as a user would start it, so the timings include start-up; its peak
memory is that process's maximum resident set. --repeat N runs N cold/warm pairs (a fresh store each)
and reports medians. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from measure import ROOT, checked, clean_env, emit, load_average, median, run_child


def run(root: Path, data: Path, out: Path, env: dict[str, str]) -> tuple[float, float, dict]:
    """Seconds, peak MB and replay.json of one replay process."""
    argv = [sys.executable, str(root / "tracer_bullet.py"), "replay",
            *(a for name in ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
              for a in ("--news", str(data / name))),
            "--bars", str(data / "spy_daily.csv"), "--symbol", "SPY", "--out", str(out)]
    child = checked(run_child(argv, env=env), "replay")
    return child.seconds, child.peak_mb, json.loads((out / "replay.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "replay" / "spy_2018_2019")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench-spy")
    parser.add_argument("--repeat", type=int, default=1, help="cold/warm pairs, each on a fresh store (medians)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    args = parser.parse_args()
    if not (args.data / "spy_daily.csv").is_file():
        print(f"no replay data under {args.data}", file=sys.stderr)
        return 2
    colds, warms, cold_peaks, warm_peaks = [], [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            env = clean_env(TB_DATABASE_URL=f"sqlite:///{Path(scratch) / 'bench.db'}")
            cold_seconds, cold_peak, summary = run(args.root, args.data, args.out / "cold", env)
            warm_seconds, warm_peak, warm_summary = run(args.root, args.data, args.out / "warm", env)
        colds.append(cold_seconds)
        warms.append(warm_seconds)
        cold_peaks.append(cold_peak)
        warm_peaks.append(warm_peak)
    cold, warm = median(colds), median(warms)
    same = (args.out / "cold" / "signals.csv").read_bytes() == (args.out / "warm" / "signals.csv").read_bytes()
    levels = summary["quantile_levels"]
    quantiles = ", ".join(f"q{round(q * 100)}={v:.3f}" for q, v in zip(levels, summary["probability_quantiles"]))
    print(f"signals: {summary['signals']} over {summary['sessions']} sessions; directions: {summary['directions']}")
    print(f"probabilities of calls: {quantiles}")
    print(f"calls resolved by the end: {summary['calls_resolved']}; calibration: {summary['calibration']['method']}")
    print(f"sentiment: {summary['sentiment_backend']}")
    print(f"cold replay {cold:.1f} s, warm replay {warm:.1f} s (wall, whole process, median of {args.repeat}; "
          f"target warm < 60 s); identical output: {same}")
    print(f"peak memory: cold {median(cold_peaks):.0f} MB, warm {median(warm_peaks):.0f} MB; load {load_average()}")
    print(f"stages of the last cold run (s): {summary['timings_seconds']}")
    print(f"stages of the last warm run (s): {warm_summary['timings_seconds']}")
    emit({"cold_seconds": cold, "warm_seconds": warm, "cold_peak_mb": median(cold_peaks), "warm_peak_mb": median(warm_peaks),
          "identical": same, "signals": summary["signals"], "sessions": summary["sessions"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
