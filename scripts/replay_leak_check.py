"""No look-ahead, byte for byte, on the full SPY 2018-2019 replay: remove every headline and bar known
after t, replay again on a fresh store, and every signal at or before t must be the same bytes.

Each replay starts with an empty score cache, so the second one scores fewer headlines in other
batches: a score that depended on its batch (padding, grouping, BLAS blocking) would show here. Reads
../shared/data/replay/spy_2018_2019 (or TRACER_SHARED_DATA); tests/test_replay_full_leak.py runs it in
CI's slow run and skips when the folder is absent (a fresh clone). Two cold replays of ~29,000
headlines: a few minutes on one core.

    .venv/bin/python scripts/replay_leak_check.py [--t 2019-01-02] [--data DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED_DATA = Path(os.environ.get("TRACER_SHARED_DATA") or ROOT.parent / "shared" / "data")
DATA = SHARED_DATA / "replay" / "spy_2018_2019"
NEWS = ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
BARS = "spy_daily.csv"
T = datetime(2019, 1, 2, tzinfo=timezone.utc)  # the as-of of the first 2019 session: about the middle


def known_at(name: str, row: list[str]) -> datetime | None:
    """When a row's headline became known, by the data README's rules; None when its time is unreadable."""
    try:
        if name.startswith("cnbc"):
            clock, _, day = " ".join(row[1].split()).partition(" ET ")  # "7:51 PM ET Fri, 17 July 2020"
            local = datetime.combine(_cnbc_day(day), datetime.strptime(clock, "%I:%M %p").time(), ZoneInfo("America/New_York"))
            return local.astimezone(timezone.utc)
        if name.startswith("guardian"):
            day = datetime.strptime(row[0].strip(), "%d-%b-%y").date()
            return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo("Europe/London")).astimezone(timezone.utc)
        return datetime.combine(date.fromisoformat(row[0].strip()) + timedelta(days=1), time(0), timezone.utc)
    except (ValueError, IndexError):
        return None


def _cnbc_day(text: str) -> date:
    _, day, month, year = text.replace(",", "").split()[:4]  # "Sept" and "September" alike
    return datetime.strptime(f"{day} {month[:3]} {year}", "%d %b %Y").date()


def truncate(source: Path, target: Path, t: datetime) -> Path:
    """Copies of the news and bar files without anything known after t (unreadable rows kept: the
    reader skips them either way)."""
    target.mkdir(parents=True)
    for name in NEWS:
        with (source / name).open(newline="", encoding="utf-8") as handle:
            header, *body = list(csv.reader(handle))
        kept = [row for row in body if not row or (when := known_at(name, row)) is None or when <= t]
        with (target / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *kept])
    lines = (source / BARS).read_text(encoding="utf-8").splitlines()
    # Bars that start after t go; the one that starts at t is still open at t, and no signal up to t reads it.
    bars = [line for line in lines[1:] if datetime.fromisoformat(line.split(",")[0]).replace(tzinfo=timezone.utc) <= t]
    (target / BARS).write_text("\n".join([lines[0], *bars]) + "\n", encoding="utf-8")
    return target


def replay(data: Path, out: Path, store: Path) -> list[str]:
    """signals.csv lines of one cold replay on its own store (the CLI, in this process)."""
    import tracer_bullet

    os.environ.update({"TB_DATABASE_URL": f"sqlite:///{store}", "TB_SENTIMENT_BACKEND": "embedded"})
    argv = ["replay", *(a for name in NEWS for a in ("--news", str(data / name))), "--bars", str(data / BARS),
            "--symbol", "SPY", "--out", str(out)]
    with contextlib.redirect_stdout(io.StringIO()):
        if tracer_bullet.main(argv) != 0:
            raise SystemExit(f"replay of {data} failed")
    return (out / "signals.csv").read_text(encoding="utf-8").splitlines()


def check(data: Path = DATA, t: datetime = T) -> tuple[int, list[str]]:
    """(signals at or before t, the lines that differ); raises SystemExit when a replay fails."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        full = replay(data, root / "full", root / "full.db")
        cut = replay(truncate(data, root / "cut-data", t), root / "cut", root / "cut.db")
    header, body = full[0], full[1:]
    before = [line for line in body if datetime.fromisoformat(line.split(",")[0]) <= t]
    cut_before = [line for line in cut[1:] if datetime.fromisoformat(line.split(",")[0]) <= t]
    differing = [a for a, b in zip(before, cut_before) if a != b]
    if cut[0] != header or len(before) != len(cut_before):
        differing.append(f"{len(before)} signals up to t in the full replay, {len(cut_before)} in the cut one")
    return len(before), differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--t", type=lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc), default=T)
    args = parser.parse_args(argv)
    count, differing = check(args.data, args.t)
    print(f"{count} signals at or before {args.t.isoformat()}: {count - len(differing)} byte-identical, "
          f"{len(differing)} differ")
    for line in differing[:5]:
        print(f"  {line}")
    return 0 if count and not differing else 1


if __name__ == "__main__":
    raise SystemExit(main())
