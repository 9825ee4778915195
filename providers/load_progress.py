"""A progress bar on stderr while a sentiment model loads, only when stderr is a terminal.

Loading takes seconds (FinBERT more): a person at a terminal sees which stage it is in instead of a
blank screen. Piped or redirected stderr, logs, and stdout (where `--json` and the sentiment lines
go) never get a byte of it.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

Step = Callable[[str], None]  # called as each stage starts, with its name


@contextmanager
def load_progress(what: str, stages: int) -> Iterator[Step]:
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield lambda stage: None
        return
    from tqdm import tqdm

    with tqdm(total=stages, desc=f"loading {what}", file=stream, leave=False, unit="stage",
              bar_format="{desc}: {bar:20} {n_fmt}/{total_fmt} {postfix}") as bar:
        started = False

        def step(stage: str) -> None:
            nonlocal started
            if started:
                bar.update(1)
            started = True
            bar.set_postfix_str(stage)

        yield step
        bar.update(bar.total - bar.n)
