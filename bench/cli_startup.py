"""What a shell user waits for before a command does anything: start-up of `tracer_bullet.py` in fresh processes.

Measured on the embedded defaults in a temporary directory (its own SQLite store, no TB_* settings),
each command in a new process, wall time from spawn to exit and the process's peak memory:
  --help                the parser alone (every command module's `register`, nothing else)
  status                an operator command on an existing store (settings, store, operator service)
  run --once (new)      the first cycle in a new directory: schema migration, model load, every headline scored
  run --once (again)    the next cycle on that store: scores cached, what remains is start-up and the cycle
The heavy libraries each command imported are listed too (from `-X importtime`, one extra run each).
Prints figures, asserts nothing. Run: .venv/bin/python bench/cli_startup.py [--repeat N] [--root DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from measure import ROOT, ChildRun, checked, clean_env, emit, load_average, median, run_child

# Libraries worth knowing about when one is loaded by a command that does not need it.
HEAVY = ("numpy", "sqlalchemy", "alembic", "pydantic", "feedparser", "tokenizers", "huggingface_hub", "torch",
         "transformers", "telegram", "discord", "alpaca", "anthropic", "httpx", "matplotlib", "pandas")
COMMANDS = {"help": ["--help"], "status": ["status"], "run_new": ["run", "--once"], "run_again": ["run", "--once"]}


def _run(root: Path, argv: list[str], cwd: Path, *flags: str) -> ChildRun:
    return checked(run_child([sys.executable, *flags, str(root / "tracer_bullet.py"), *argv], clean_env(), cwd),
                   " ".join(argv))


def heavy_imports(importtime_stderr: str) -> list[str]:
    """Top-level packages from HEAVY named in `-X importtime` output."""
    found = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            found.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return [name for name in HEAVY if name in found]


def measure(root: Path, repeat: int) -> dict[str, list[ChildRun]]:
    runs: dict[str, list[ChildRun]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="tb-cli-") as scratch:
            where = Path(scratch)
            runs["help"].append(_run(root, COMMANDS["help"], where))
            runs["run_new"].append(_run(root, COMMANDS["run_new"], where))  # makes the store
            runs["run_again"].append(_run(root, COMMANDS["run_again"], where))
            runs["status"].append(_run(root, COMMANDS["status"], where))
    return runs


def imports_by_command(root: Path) -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="tb-cli-") as scratch:
        where = Path(scratch)
        found = {"help": heavy_imports(_run(root, COMMANDS["help"], where, "-X", "importtime").stderr)}
        _run(root, COMMANDS["run_new"], where)  # the store exists for status, as in the timed runs
        found["status"] = heavy_imports(_run(root, COMMANDS["status"], where, "-X", "importtime").stderr)
        found["run_again"] = heavy_imports(_run(root, COMMANDS["run_again"], where, "-X", "importtime").stderr)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command behind each median")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose tracer_bullet.py is measured")
    args = parser.parse_args()
    root = args.root.resolve()
    runs = measure(root, args.repeat)
    imports = imports_by_command(root)
    result: dict[str, float] = {}
    print(f"CLI start-up of {root}; embedded defaults in a temporary directory; medians of {args.repeat} fresh "
          f"processes; load {load_average()}")
    for name, label in (("help", "--help"), ("status", "status"), ("run_new", "run --once (new store)"),
                        ("run_again", "run --once (again)")):
        seconds, peak = median([r.seconds for r in runs[name]]), median([r.peak_mb for r in runs[name]])
        result[f"{name}_seconds"], result[f"{name}_peak_mb"] = seconds, peak
        low, high = min(r.seconds for r in runs[name]), max(r.seconds for r in runs[name])
        heavy = ", ".join(imports.get(name, [])) if name in imports else "(as run --once again)"
        print(f"  {label:<24} {seconds * 1000:7.0f} ms (range {low * 1000:.0f}-{high * 1000:.0f})  "
              f"peak {peak:5.0f} MB  heavy imports: {heavy or 'none'}")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
