"""The parser, built from the command modules of this package, and the one way a command is run."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from cli import about, assets, audit, bot, chart, match, operator, replay, run, sentiment, serve
from cli import eval as evaluation

# Each module adds its subcommands with `register(subparsers)`, in the order `--help` lists them.
COMMAND_MODULES = (run, operator, audit, evaluation, replay, sentiment, assets, match, chart, bot, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracer-bullet", description=about.DESCRIPTION, epilog=about.START_WITH,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=about.VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from config import ConfigError, load_settings
    from pipeline.universe import check_universe
    from serve.logs import configure_command_logging, protect
    from storage.errors import StoreError
    from trading.factory import live_banner

    try:
        settings = load_settings(known_symbols=check_universe)
        protect(settings)  # every secret in the settings is redacted from every log record from here on
        configure_command_logging(settings, args.verbose)  # TB_LOG_FORMAT / TB_LOG_LEVEL for every command
        banner = live_banner(settings)
        if banner:
            print(banner, file=sys.stderr)
        return int(args.handler(settings, args))
    except (ConfigError, StoreError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`run --once | head`): what it wanted was printed; stay quiet as `cat` does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
