"""Calibration and skill of the replayed SPY 2018-2019 calls, engine beside the three baselines, per checkout.

Reads ../shared/data (not in a fresh clone; pass --data). Runs, for each checkout given with --root,
exactly what a user would:

    python tracer_bullet.py replay --news cnbc_headlines.csv --news guardian_headlines.csv \\
        --news reuters_headlines.csv --bars spy_daily.csv --symbol SPY --out DIR
    python tracer_bullet.py eval --signals DIR/signals.csv --bars spy_daily.csv --out DIR/eval

and prints, from DIR/eval/metrics.json: calls, hit rate, Brier, ECE and Brier skill against the
climatology, each with its 95% interval (the evaluation's bootstrap over whole days; ECE's interval
is computed here by this checkout's eval code the same way and, as eval/report.py warns, resampling
biases a binned gap upward, so read it as a spread, not a bound), for the engine and the three baselines; and the engine's own
verdict on its edge at the end of the replay (replay.json). Before/after: give the older checkout
too (e.g. `git archive <commit> | tar -x -C /tmp/tb-before`), as

    .venv/bin/python bench/calibration_replay.py --data /work/shared/data/replay/spy_2018_2019 \\
        --root before=/tmp/tb-before --root after=.

The data end on 2019-06-30: the held-out market period (mid-2019 to mid-2020) is never read.
A score cache (--store, a SQLite file) is shared by the runs when given, so only the first scores
the headlines. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from measure import ROOT, checked, clean_env, emit, run_child

sys.path.insert(0, str(ROOT))
from eval.signals import read_signals_csv  # noqa: E402

NEWS = ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
ROWS = ("engine", "climatology", "price_only", "sentiment_only")


def replay_and_eval(root: Path, data: Path, out: Path, env: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    python = [sys.executable, str(root / "tracer_bullet.py")]
    news = [a for name in NEWS for a in ("--news", str(data / name))]
    checked(run_child([*python, "replay", *news, "--bars", str(data / "spy_daily.csv"), "--symbol", "SPY",
                       "--out", str(out)], env=env, cwd=root), f"replay in {root}")
    checked(run_child([*python, "eval", "--signals", str(out / "signals.csv"), "--bars", str(data / "spy_daily.csv"),
                       "--out", str(out / "eval")], env=env, cwd=root), f"eval in {root}")
    return (json.loads((out / "eval" / "metrics.json").read_text()), json.loads((out / "replay.json").read_text()))


def ece_intervals(signals: Path, bars: Path) -> dict[str, tuple[float, float]]:
    """Day-bootstrap percentile interval of ECE for the engine and each baseline, on the evaluation's own
    per-signal forecasts (eval/report.py), with the evaluation's seed and resample count."""
    from eval.bootstrap import RESAMPLES, SEED
    from eval.metrics import ece
    from eval.report import distinct, forecast_table, known_moves
    from eval.resolve import bar_source, resolve_all

    found, _ = distinct(read_signals_csv(signals))
    resolutions = resolve_all(found, bar_source(bars, [s.symbol for s in found]), datetime.now(timezone.utc))
    resolved = [r for r in resolutions if r.status == "resolved" and r.market is not None]
    table = forecast_table(resolved, known_moves(resolutions))
    forecasts = {"engine": table.engine, **table.baselines}
    labels = sorted(set(table.days))
    members = {day: np.flatnonzero(np.array([d == day for d in table.days])) for day in labels}
    rng = np.random.default_rng(SEED)
    draws = [np.concatenate([members[labels[k]] for k in rng.integers(0, len(labels), len(labels))])
             for _ in range(RESAMPLES)]
    spans = {}
    for name, p in forecasts.items():
        values = [ece(p[take], table.hits[take]) for take in draws]
        low, high = np.quantile(values, [0.025, 0.975])
        spans[name] = (float(low), float(high))
    return spans


def _interval(pair: list[float] | None, percent: bool = False) -> str:
    if not pair:
        return ""
    return f"[{pair[0]:+.1%}, {pair[1]:+.1%}]" if percent else f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def table(label: str, metrics: dict[str, Any], replay: dict[str, Any], ece_spans: dict[str, tuple[float, float]]) -> str:
    lines = [f"== {label}: {metrics['count']} resolved calls, hit rate {metrics['hit_rate']:.1%} "
             f"{_interval(metrics['intervals'].get('hit_rate'), percent=True).replace('+', '')}"]
    lines.append(f"{'':16}{'Brier [95%]':28}{'ECE [95%]':24}{'skill vs climatology [95%]'}")
    for name in ROWS:
        m = metrics if name == "engine" else metrics["baselines"][name]
        span = ece_spans.get(name)
        ece_text = f"{m['ece']:.3f}" + (f" [{span[0]:.3f}, {span[1]:.3f}]" if span else "")
        lines.append(f"{name:16}{m['brier']:.4f} {_interval(m['intervals'].get('brier')):21}{ece_text:24}"
                     f"{m['brier_skill']:+.2%} {_interval(m['intervals'].get('brier_skill'), percent=True)}")
    edge = (replay.get("calibration") or {}).get("edge")
    if edge:
        slope = edge["slope_interval"] or [float("nan")] * 2
        skill = edge["brier_skill_interval"] or [float("nan")] * 2
        lines.append(f"engine's verdict at the end: edge {edge['status']} over {edge['calls']} resolved calls; slope of "
                     f"hits on the claimed edge {edge['slope']:+.2f} [{slope[0]:+.2f}, {slope[1]:+.2f}], share of the edge "
                     f"kept {edge['weight']:.2f}; Brier skill of the full claimed edge {edge['brier_skill'] or 0:+.2%} "
                     f"[{skill[0]:+.1%}, {skill[1]:+.1%}]")
    else:
        lines.append(f"engine's calibration at the end: {json.dumps(replay.get('calibration'))}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "replay" / "spy_2018_2019")
    parser.add_argument("--root", action="append", default=[], metavar="LABEL=PATH",
                        help="a checkout to measure (repeat for before/after); default: this one")
    parser.add_argument("--store", type=Path, help="SQLite file whose score cache the runs share")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench-calibration")
    args = parser.parse_args()
    if not (args.data / "spy_daily.csv").is_file():
        print(f"no replay data under {args.data}", file=sys.stderr)
        return 2
    roots = [r.split("=", 1) if "=" in r else (r, r) for r in args.root] or [("this checkout", str(ROOT))]
    store = args.store or args.out / "scores.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    env = clean_env(TB_DATABASE_URL=f"sqlite:///{store.resolve()}")
    results = {}
    for label, root in roots:
        out = args.out / label.replace(" ", "-")
        metrics, replay = replay_and_eval(Path(root).resolve(), args.data, out, env)
        print(table(label, metrics, replay, ece_intervals(out / "signals.csv", args.data / "spy_daily.csv")))
        results[label] = {"count": metrics["count"], "brier": metrics["brier"], "ece": metrics["ece"],
                          "brier_skill": metrics["brier_skill"], "skill_interval": metrics["intervals"].get("brier_skill")}
    emit(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
