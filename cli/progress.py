"""Progress bars for long commands (replay, eval): on stderr, only when stderr is a terminal.

Piped, redirected or asked for `--json`, a command prints nothing extra anywhere: stdout stays
what the command prints (pure JSON with `--json`), stderr stays its errors and warnings. One bar
per stage, with a count, a rate and an estimate of the time left (tqdm).
"""
from __future__ import annotations

import shutil
import sys
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Iterator

from intelligence.progress import SILENT, Progress, Tick


class TerminalProgress:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def stage(self, name: str, total: int | None = None, unit: str = "item") -> AbstractContextManager[Tick]:
        return self._bar(name, total, unit)

    @contextmanager
    def _bar(self, name: str, total: int | None, unit: str) -> Iterator[Tick]:
        from tqdm import tqdm

        # A terminal that reports no size (a fresh pty, a serial console) gets 80 x 24: tqdm would take
        # it for no room at all and draw nothing.
        size = shutil.get_terminal_size((80, 24))
        # leave=True: the finished stage stays on screen with its count and time, as a record of the run.
        with tqdm(total=total, desc=f"{name:<12}", unit=f" {unit}", file=self.stream, leave=True,
                  ncols=min(size.columns, 120), nrows=max(size.lines, 2), mininterval=0.2, smoothing=0.1) as bar:
            yield bar.update


def terminal_progress(stream: IO[str] | None = None, json_output: bool = False) -> Progress:
    """Bars on `stream` (stderr) when it is a terminal and the output is not JSON; else nothing at all."""
    stream = sys.stderr if stream is None else stream
    if json_output or not _is_terminal(stream):
        return SILENT
    return TerminalProgress(stream)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        return False
