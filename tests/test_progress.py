"""Progress on long work: bars per stage on stderr when stderr is a terminal, nothing at all otherwise, and
never anything on stdout (so `--json` and piped output stay what they were). Real processes, with a pseudo-
terminal for stderr where a user's shell would have one."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.progress import TerminalProgress, terminal_progress
from intelligence.progress import SILENT
from tests.conftest import REPO

REPLAY = REPO / "tests" / "data" / "replay"
EVAL = REPO / "tests" / "data" / "eval"
BAR = re.compile(r"\d+%\|")  # tqdm's "100%|███|"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_go_only_to_a_terminal_and_never_with_json() -> None:
    assert terminal_progress(io.StringIO()) is SILENT
    assert terminal_progress(Terminal(), json_output=True) is SILENT
    screen = Terminal()
    progress = terminal_progress(screen)
    assert isinstance(progress, TerminalProgress)
    with progress.stage("sentiment", 300, "headline") as tick:
        for _ in range(3):
            tick(100)
    assert "sentiment" in screen.getvalue() and "300/300" in screen.getvalue() and "headline" in screen.getvalue()


def test_the_silent_default_takes_every_call() -> None:
    with SILENT.stage("anything", None) as tick:
        tick(5)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TB_")}
    return env | {"TB_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "TB_SENTIMENT_BACKEND": "embedded",
                  "HF_HUB_OFFLINE": "1", "COLUMNS": "100"}


def _run(args: list[str], tmp_path: Path, terminal: bool) -> tuple[int, str, str]:
    """The command with stdout piped and stderr on a pseudo-terminal (or piped too); (code, stdout, stderr)."""
    argv = [sys.executable, str(REPO / "tracer_bullet.py"), *args]
    if not terminal:
        done = subprocess.run(argv, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout, done.stderr
    main, tty = os.openpty()
    with subprocess.Popen(argv, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=tty,
                          stdin=subprocess.DEVNULL) as process:
        os.close(tty)
        screen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            screen += chunk
        stdout = process.stdout.read().decode() if process.stdout else ""
        code = process.wait(timeout=300)
    os.close(main)
    return code, stdout, screen.decode(errors="replace")


def _final_frames(screen: str) -> list[str]:
    """What each bar said last (a bar redraws itself after carriage returns)."""
    lines = screen.replace("\r\n", "\n").split("\n")
    return [frames[-1] for frames in ([f for f in line.split("\r") if f.strip()] for line in lines) if frames]


def _replay(out: Path) -> list[str]:
    news = [arg for name in ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
            for arg in ("--news", str(REPLAY / name))]
    return ["replay", *news, "--bars", str(REPLAY / "spy_daily.csv"), "--symbol", "SPY", "--out", str(out)]


@pytest.mark.slow  # two replays of the small copy, in processes: about twenty seconds
def test_replay_shows_each_stage_with_counts_on_a_terminal_and_nothing_when_piped(tmp_path: Path) -> None:
    code, stdout, screen = _run(_replay(tmp_path / "a"), tmp_path, terminal=True)
    assert code == 0, screen
    frames = {frame.split(":")[0].strip(): frame for frame in _final_frames(screen) if BAR.search(frame)}
    assert set(frames) == {"news files", "relevance", "sentiment", "walk forward"}
    for name, unit in (("news files", "file"), ("relevance", "headline"), ("sentiment", "headline"),
                       ("walk forward", "session")):
        done = re.search(r"100%\|.*\| (\d+)/(\d+) \[[\d:]+<[\d:]+", frames[name])  # count and time left
        assert done and done.group(1) == done.group(2) and unit in frames[name], frames[name]
    assert "news files" in frames and "3/3" in frames["news files"]
    document = json.loads((tmp_path / "a" / "replay.json").read_text())
    walked = re.search(r"(\d+)/\1", frames["walk forward"])
    assert walked and int(walked.group(1)) == document["sessions"]
    assert not BAR.search(stdout) and "\r" not in stdout and stdout.startswith("Replay of SPY")

    code, stdout_piped, stderr = _run(_replay(tmp_path / "b"), tmp_path, terminal=False)
    assert code == 0 and stderr == "" and stdout_piped.splitlines()[0] == stdout.splitlines()[0]


@pytest.mark.slow  # eval in processes: about ten seconds
def test_eval_shows_its_stages_on_a_terminal_and_keeps_stdout_clean(tmp_path: Path) -> None:
    args = ["eval", "--signals", str(EVAL / "spy_signals_2018.csv"), "--bars", str(EVAL / "SPY_2018.csv")]
    code, stdout, screen = _run([*args, "--out", str(tmp_path / "a")], tmp_path, terminal=True)
    assert code == 0, screen
    names = [frame.split(":")[0].strip() for frame in _final_frames(screen) if BAR.search(frame)]
    assert names == ["resolve", "score", "pictures"]
    assert not BAR.search(stdout) and stdout.startswith("Evaluation of")
    code, piped, stderr = _run([*args, "--out", str(tmp_path / "b")], tmp_path, terminal=False)
    assert code == 0 and stderr == "" and piped.replace(str(tmp_path / "b"), "") == stdout.replace(str(tmp_path / "a"), "")


def test_json_output_stays_pure_json_on_a_terminal(tmp_path: Path) -> None:
    code, stdout, screen = _run(["status", "--json"], tmp_path, terminal=True)
    assert code == 0, screen
    assert json.loads(stdout)["trading_state"] and not BAR.search(screen)
