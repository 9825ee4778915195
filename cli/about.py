"""What `tracer-bullet --help` and `--version` say: written for a trader, not for a developer."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

DESCRIPTION = """\
Tracer Bullet reads the news (the story) and the price bars (the tape) of your watchlist and tells
you where they disagree: a short digest of evidence, a probability for each call, and a proposed
trade that waits for your yes or no. Paper trading on the shipped market snapshot until you set
TB_* variables (.env.example lists them all) for live data, Telegram and Alpaca."""

START_WITH = """\
start with:
  tracer-bullet run --once       one cycle now: prints the digest (or posts it to your chat)
  tracer-bullet proposals        trades waiting for you; then: approve ID, reject ID or size ID X
  tracer-bullet status           paused or trading, paper or live, and how the last cycle went
  tracer-bullet eval             were the calls right? scored against simple baselines, with pictures
  tracer-bullet serve            keep it running: cycles on a schedule, the chat bot, trading

`tracer-bullet COMMAND --help` says more about each command."""


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked (every call builds the parser)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: object, values: object,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("tracer-bullet")
        except PackageNotFoundError:  # run from a clone that was never installed
            found = "unknown (not installed: pip install -e .)"
        sys.stdout.write(f"{parser.prog} {found}\n")  # on stdout, as argparse's own version action does
        parser.exit()
