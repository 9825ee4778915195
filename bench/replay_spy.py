"""Replay of the shared SPY 2018-2019 data, cold (empty score cache) and warm: prints counts and timings.

Reads ../shared/data (not in a fresh clone). Usage, from the repository root:

    .venv/bin/python bench/replay_spy.py [--data ../shared/data/replay/spy_2018_2019] [--out DIR]

Each run is a separate process, as a user would start it, so the timings include start-up.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(data: Path, out: Path, env: dict[str, str]) -> tuple[float, dict]:
    argv = [sys.executable, str(ROOT / "tracer_bullet.py"), "replay",
            *(a for name in ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
              for a in ("--news", str(data / name))),
            "--bars", str(data / "spy_daily.csv"), "--symbol", "SPY", "--out", str(out)]
    began = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began, json.loads((out / "replay.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "replay" / "spy_2018_2019")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench-spy")
    args = parser.parse_args()
    if not (args.data / "spy_daily.csv").is_file():
        print(f"no replay data under {args.data}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TB_")}
        env |= {"TB_DATABASE_URL": f"sqlite:///{Path(scratch) / 'bench.db'}", "HF_HUB_OFFLINE": "1"}
        cold, summary = run(args.data, args.out / "cold", env)
        warm, _ = run(args.data, args.out / "warm", env)
    same = (args.out / "cold" / "signals.csv").read_bytes() == (args.out / "warm" / "signals.csv").read_bytes()
    levels = summary["quantile_levels"]
    quantiles = ", ".join(f"q{round(q * 100)}={v:.3f}" for q, v in zip(levels, summary["probability_quantiles"]))
    print(f"signals: {summary['signals']} over {summary['sessions']} sessions; directions: {summary['directions']}")
    print(f"probabilities of calls: {quantiles}")
    print(f"calls resolved by the end: {summary['calls_resolved']}; calibration: {summary['calibration']['method']}")
    print(f"sentiment: {summary['sentiment_backend']}")
    print(f"cold replay {cold:.1f} s, warm replay {warm:.1f} s (wall, whole process); identical output: {same}")
    print(f"stages of the cold run (s): {summary['timings_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
