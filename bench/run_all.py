"""The whole benchmark suite in one command, ending in one table: .venv/bin/python bench/run_all.py

Runs each benchmark of bench/ in its own process (sentiment throughput, cycle latency, a warm cycle
on a store with weeks of history, the SPY replay, bot latency, approval latency, CLI start-up; what-ifs: SQLite WAL
forced onto an older checkout, more torch threads), prints what each reports, then a table of every figure with its target. Figures are medians of
repeated measurements (--repeat). With --before DIR (another checkout, e.g. a copy of the tree taken
before an optimisation) every benchmark also runs against DIR, alternating with this tree in one
run, and the table shows both side by side. Reads ../shared/data (sentiment and replay headlines).
Prints figures, asserts nothing: a target missed is a finding, not an error.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from measure import ROOT, clean_env, load_average, median, parse_result, run_child

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: Callable[[argparse.Namespace], list[str]]
    runs: Callable[[argparse.Namespace], int]  # whole-process runs per checkout (each also repeats inside)


@dataclass(frozen=True)
class Row:
    bench: str
    label: str
    key: str
    unit: str
    target: str = ""
    scale: float = 1.0


BENCHES = (
    Bench("sentiment", "sentiment_throughput.py",
          lambda a: ["--repeat", str(a.repeat), "--count", str(a.count), "--what-if-threads", "2"], lambda a: 1),
    Bench("cycle", "cycle_latency.py", lambda a: ["--repeat", str(max(a.repeat, 3))], lambda a: a.alternate),
    Bench("cycle-wal", "cycle_latency.py", lambda a: ["--repeat", str(max(a.repeat, 3)), "--wal"], lambda a: a.alternate),
    Bench("history", "cycle_history.py", lambda a: ["--repeat", str(a.repeat)], lambda a: a.alternate),
    Bench("replay", "replay_spy.py", lambda a: ["--repeat", str(a.repeat)], lambda a: a.alternate),
    Bench("bot", "bot_latency.py", lambda a: ["--rounds", str(a.rounds)], lambda a: a.repeat),
    Bench("bot-wal", "bot_latency.py", lambda a: ["--rounds", str(a.rounds), "--wal"], lambda a: a.repeat),
    Bench("bot-load", "bot_load.py", lambda a: [], lambda a: 1),
    Bench("approve", "trading_approve.py", lambda a: ["50"], lambda a: a.repeat),
    Bench("cli", "cli_startup.py", lambda a: ["--repeat", str(max(a.repeat, 5))], lambda a: a.alternate),
)

ROWS = (
    Row("sentiment", "sentiment: naive pipeline, one call per headline", "naive_hps", "headlines/s"),
    Row("sentiment", "sentiment: ours, first pass (bucketed batches)", "batched_hps", "headlines/s"),
    Row("sentiment", "sentiment: ours, second pass (score cache)", "cached_hps", "headlines/s"),
    Row("sentiment", "sentiment: first pass / naive", "batched_ratio", "x"),
    Row("sentiment", "sentiment: two passes, ours / naive", "two_pass_ratio", "x", ">= 5x"),
    Row("sentiment", "sentiment: warm mix (5% new), ours / naive", "mixed_ratio", "x", ">= 5x"),
    Row("sentiment", "sentiment: labels agreeing with naive", "label_agreement", "%", "100%", 100),
    Row("sentiment", "sentiment what-if: ours, 2 torch threads", "threaded_batched_hps", "headlines/s"),
    Row("sentiment", "sentiment opt-in int8: first pass", "int8_batched_hps", "headlines/s"),
    Row("sentiment", "sentiment opt-in int8: two passes / naive", "int8_two_pass_ratio", "x"),
    Row("sentiment", "sentiment opt-in int8: labels agreeing with naive", "int8_label_agreement", "%", "", 100),
    Row("sentiment", "sentiment: peak memory, naive", "naive_peak_mb", "MB"),
    Row("sentiment", "sentiment: peak memory, ours", "ours_peak_mb", "MB"),
    Row("cycle", "cycle: cold, process start to digest", "cold_seconds", "s", "< 15 s"),
    Row("cycle", "cycle: warm, 5% new spread over feeds", "warm_seconds", "ms", "< 1000 ms", 1000),
    Row("cycle", "cycle: warm, 5% new in one feed", "warm_one_feed_seconds", "ms", "< 1000 ms", 1000),
    Row("cycle", "cycle: cold / warm (spread)", "warm_ratio", "x", ">= 20x"),
    Row("cycle", "cycle: cold / warm (one feed)", "warm_one_feed_ratio", "x", ">= 20x"),
    Row("cycle", "cycle: peak memory, cold run --once", "cold_peak_mb", "MB"),
    Row("cycle", "cycle: peak memory, serving process", "warm_peak_mb", "MB"),
    Row("cycle-wal", "cycle, SQLite WAL what-if: cold", "cold_seconds", "s", "< 15 s"),
    Row("cycle-wal", "cycle, SQLite WAL what-if: warm (spread)", "warm_seconds", "ms", "< 1000 ms", 1000),
    Row("cycle-wal", "cycle, SQLite WAL what-if: cold / warm", "warm_ratio", "x", ">= 20x"),
    Row("history", "store of 2000 cycles: cycle state read", "state_shipped_seconds", "ms", "", 1000),
    Row("history", "store of 2000 cycles: warm cycle", "warm_seconds", "ms", "< 1000 ms", 1000),
    Row("history", "store of 2000 cycles: peak memory", "peak_mb", "MB"),
    Row("replay", "replay SPY: cold (empty score cache)", "cold_seconds", "s"),
    Row("replay", "replay SPY: warm", "warm_seconds", "s", "< 60 s"),
    Row("replay", "replay SPY: peak memory, cold", "cold_peak_mb", "MB"),
    Row("replay", "replay SPY: peak memory, warm", "warm_peak_mb", "MB"),
    Row("bot", "bot, 50 concurrent: handled p50", "handled_p50_ms", "ms"),
    Row("bot", "bot, 50 concurrent: handled p99", "handled_p99_ms", "ms", "< 50 ms"),
    Row("bot", "bot, 50 concurrent: answered p50", "answered_p50_ms", "ms"),
    Row("bot", "bot, 50 concurrent: answered p99", "answered_p99_ms", "ms", "(rate limit: >= 2 s)"),
    Row("bot", "bot: peak memory", "peak_mb", "MB"),
    Row("bot-wal", "bot, SQLite WAL what-if: handled p50", "handled_p50_ms", "ms"),
    Row("bot-wal", "bot, SQLite WAL what-if: handled p99", "handled_p99_ms", "ms", "< 50 ms"),
    Row("bot-load", "bot: operator's /status alone", "after_flood_alone_s", "ms", "", 1000),
    Row("bot-load", "bot: operator's /status behind 300 strangers", "after_flood_under_flood_s", "ms", "", 1000),
    Row("bot-load", "bot: /pause, store held 8 s: answered after release", "after_locked_answer_after_release_s", "ms",
        "", 1000),
    Row("bot-load", "bot: store held 8 s: longest event-loop stall", "after_locked_longest_stall_s", "ms", "< 1000 ms",
        1000),
    Row("bot-load", "bot: operator's /pause beside 4 readers' /eval", "after_eval_pause_s", "ms", "", 1000),
    Row("approve", "approve, simulated broker: p50", "simulated_p50_ms", "ms"),
    Row("approve", "approve, simulated broker: p99", "simulated_p99_ms", "ms"),
    Row("approve", "approve, alpaca-py to fake: p99", "alpaca_p99_ms", "ms"),
    Row("approve", "approve: peak memory", "peak_mb", "MB"),
    Row("cli", "cli: --help, process start to exit", "help_seconds", "ms", "", 1000),
    Row("cli", "cli: status, process start to exit", "status_seconds", "ms", "", 1000),
    Row("cli", "cli: run --once, new store", "run_new_seconds", "s"),
    Row("cli", "cli: run --once, scores cached", "run_again_seconds", "s"),
    Row("cli", "cli: peak memory, --help", "help_peak_mb", "MB"),
    Row("cli", "cli: peak memory, status", "status_peak_mb", "MB"),
    Row("cli", "cli: peak memory, run --once", "run_again_peak_mb", "MB"),
)


def run_bench(bench: Bench, roots: dict[str, Path], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Per checkout, medians over the bench's whole-process runs. With two checkouts the runs alternate
    (before, after, after, before, ...) so that load from others on the machine falls on both alike."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
    for round_ in range(bench.runs(args)):
        for name in (list(roots) if round_ % 2 == 0 else list(roots)[::-1]):
            argv = [sys.executable, str(HERE / bench.script), "--root", str(roots[name]), *bench.args(args)]
            print(f"\n== {bench.name}" + (f" ({name}: {roots[name]})" if len(roots) > 1 else ""), flush=True)
            run = run_child(argv, env=clean_env(), cwd=ROOT)
            if run.returncode != 0:  # one broken benchmark must not cost the others' figures
                print(f"{bench.script} failed (exit {run.returncode}):\n" + "\n".join(run.stderr.strip().splitlines()[-10:]))
                continue
            print("\n".join(line for line in run.stdout.splitlines() if not line.startswith("BENCH-RESULT")), flush=True)
            results[name].append(parse_result(run.stdout))
    return {name: _medians(found) for name, found in results.items()}


def _medians(results: list[dict[str, Any]]) -> dict[str, Any]:
    numbers = {k for r in results for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {k: median([r[k] for r in results if k in r]) for k in numbers}


def _cell(value: float | None, row: Row) -> str:
    if value is None:
        return "-"
    value *= row.scale
    digits = 2 if row.unit in ("s", "x") and value < 100 else (1 if value < 1000 else 0)
    return f"{value:,.{digits}f} {row.unit}"


def print_table(after: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]] | None) -> None:
    heads = ["figure", *(["before"] if before is not None else []), "after" if before is not None else "value", "target"]
    lines = []
    for row in ROWS:
        if row.bench not in after:
            continue
        cells = [row.label]
        if before is not None:
            cells.append(_cell(before.get(row.bench, {}).get(row.key), row))
        cells += [_cell(after[row.bench].get(row.key), row), row.target]
        lines.append(cells)
    widths = [max(len(str(c[i])) for c in [heads, *lines]) for i in range(len(heads))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cells in lines:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions behind every median (default 3)")
    parser.add_argument("--count", type=int, default=800, help="headlines in the sentiment benchmark (default 800)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of 50 commands per bot run (default 5)")
    parser.add_argument("--only", action="append", choices=[b.name for b in BENCHES], help="run only these (repeatable)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--before", type=Path, help="also measure this checkout, side by side, as 'before'")
    parser.add_argument("--alternate", type=int, help="whole-process runs per checkout of the cycle, history and replay "
                                                      "benchmarks (default 1, or 2 with --before)")
    args = parser.parse_args()
    if args.alternate is None:
        args.alternate = 2 if args.before else 1
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    print(f"Tracer Bullet benchmarks: {args.root}" + (f" against {args.before}" if args.before else "")
          + f"; load at start {load_average()}")
    began = time.perf_counter()
    roots = {"after": args.root.resolve()}
    if args.before:
        roots = {"before": args.before.resolve(), **roots}
    after: dict[str, dict[str, Any]] = {}
    before: dict[str, dict[str, Any]] | None = {} if args.before else None
    for bench in chosen:
        found = run_bench(bench, roots, args)
        after[bench.name] = found["after"]
        if before is not None:
            before[bench.name] = found["before"]
    print(f"\nSummary (medians of {args.repeat} runs, and of {args.alternate} process(es) per checkout for cycle, history "
          f"and replay; load at end {load_average()}; {time.perf_counter() - began:.0f} s in all)\n")
    print_table(after, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
