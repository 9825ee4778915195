"""What every benchmark shares: timing a child process with its peak memory, medians, percentiles, JSON results.

Peak memory is the child's maximum resident set size as the kernel reports it when the child is
reaped (os.wait4); a child that starts its own processes and waits for them reports the larger of
its own peak and theirs. Benchmarks print figures and never assert: a slow machine is a finding.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULT_PREFIX = "BENCH-RESULT "  # the line a benchmark prints for bench/run_all.py to collect


@dataclass(frozen=True)
class ChildRun:
    seconds: float  # wall time from spawn to exit
    peak_mb: float  # max RSS of the child (and the grandchildren it waited for)
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the child (and the grandchildren it waited for)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the operator's TB_* settings (a benchmark runs on the embedded defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TB_")}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env |= extra
    return env


def run_child(argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> ChildRun:
    """Run argv to completion; stdout and stderr go to files so a chatty child cannot block on a full pipe."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tb-bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        began = time.perf_counter()
        process = subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    # Linux reports ru_maxrss in KiB.
    return ChildRun(seconds, usage.ru_maxrss / 1024, process.returncode, stdout, stderr, usage.ru_utime + usage.ru_stime)


def checked(run: ChildRun, what: str) -> ChildRun:
    if run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{what} failed with exit code {run.returncode}:\n{tail}")
    return run


def self_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def emit(result: dict[str, Any]) -> None:
    """One machine-readable line for run_all.py, after the human-readable figures."""
    print(RESULT_PREFIX + json.dumps(result, sort_keys=True), flush=True)


def parse_result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise ValueError("the benchmark printed no result line")
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def product_root(argv: Sequence[str] | None = None) -> Path:
    """--root DIR (another checkout of the project, e.g. a copy taken before an optimisation) or this one.

    Read before the product is imported, so that the modules under test come from that tree."""
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--root" and i + 1 < len(args):
            return Path(args[i + 1]).resolve()
        if arg.startswith("--root="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


def use_product(root: Path) -> None:
    """Import the product (config, app, intelligence, ...) from `root`, ahead of any installed copy."""
    sys.path.insert(0, str(root))
