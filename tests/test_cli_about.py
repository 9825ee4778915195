"""`--version` and the top-level `--help`: written for a trader, naming commands that exist."""
from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

import pytest

from cli.about import START_WITH
from cli.main import build_parser, main
from tests.conftest import REPO


def test_version_prints_the_package_version_and_exits_0(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"tracer-bullet {version('tracer-bullet')}\n"


def test_version_from_the_command_line() -> None:
    done = subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and re.fullmatch(r"tracer-bullet \d+\.\d+\.\d+\S*\n", done.stdout)


def test_help_starts_with_five_commands_that_exist(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "news" in text and "tape" in text and "paper trading" in text.lower()
    starts = re.findall(r"^  tracer-bullet (.+?)\s{2,}", START_WITH, flags=re.M)
    assert len(starts) == 5 and all(f"tracer-bullet {s}" in text for s in starts)
    parser = build_parser()
    for start in starts:
        parser.parse_args(start.split())  # each is a command line the parser takes as it is
    assert "approve ID" in text  # what follows the proposals
    assert "service and below" not in text  # the old, developer's description


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path) -> None:
    """`tracer-bullet env-example | head -1`: the pipe closes before the command has printed everything."""
    process = subprocess.Popen([sys.executable, str(REPO / "tracer_bullet.py"), "env-example"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before it writes: every write meets a closed pipe
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141 and "Traceback" not in errors, errors
