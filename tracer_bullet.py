"""Tracer Bullet command line: parse, wire, render. The work happens in app/ and below."""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from config import Settings

# Top-level imports stay light (standard library only): every call, `--help` included, pays for what
# is imported here. Handlers import what they use (sqlalchemy, numpy, the models, the operator service).

# Modules that add their own subcommands: each has `register(subparsers)` and sets
# `handler(settings, args) -> exit code` on the parsers it adds.
COMMAND_MODULES: tuple[str, ...] = ("eval.cli", "trading.cli", "app.replay", "bot.cli", "app.sentiment_cli", "app.serve")
log = logging.getLogger("tracer_bullet")


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not args.once:
        print("run needs --once (one cycle); the long-running assistant is `serve`.", file=sys.stderr)
        return 2
    from app.cli_support import operator_service, utcnow
    from app.cycle import CycleError, run_once
    from app.data_sources import build_data_sources, data_secrets
    from bot.redact import register_secrets
    from bot.render_text import render_digest
    from providers.sentiment_models import SentimentLoadError, load_backend

    register_secrets(data_secrets(settings))  # before any provider logs a URL
    from storage.db import open_store

    sessions = open_store(settings.database_url)
    try:
        loaded = load_backend(settings.sentiment_backend, settings.finbert_model, quantize=settings.finbert_quantize)
    except SentimentLoadError as exc:
        print(f"cannot load the sentiment model: {exc}", file=sys.stderr)
        return 1
    if loaded.note:
        log.info(loaded.note)
    sources = build_data_sources(settings, sessions, utcnow)
    try:
        report = run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
    except CycleError as exc:
        print(f"cycle failed: {exc}", file=sys.stderr)
        return 1
    finally:
        sources.close()
    print(render_digest(report.digest))
    if settings.auto_approve_probability is not None:
        # The explicit auto-approve rule acts on the proposal this cycle made, through every guard.
        approved = operator_service(settings).trading_tick().auto_approved
        if approved:
            print(f"Auto-approved proposal(s) {', '.join(f'#{i}' for i in approved)} (TB_AUTO_APPROVE_PROBABILITY).")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli_support import jsonable, operator_service
    from bot.render_text import render_status

    report = operator_service(settings).status()
    if args.json:
        payload = jsonable(report)
        payload["paused"] = report.paused
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(render_status(report))
    return 0


def cmd_proposals(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli_support import operator_service, print_json
    from bot.render_text import render_proposal

    proposals = operator_service(settings).proposals(include_closed=args.all)
    if args.json:
        print_json(proposals)
    else:
        print("\n".join(render_proposal(p) for p in proposals) or "No pending proposals.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracer-bullet", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="one cycle on the configured universe; prints the digest")
    run.add_argument("--once", action="store_true", help="run one cycle and exit")
    run.set_defaults(handler=cmd_run)


    for name, handler, text in (
        ("status", cmd_status, "last run, sentiment backend, pending proposals, trading state and mode"),
        ("proposals", cmd_proposals, "pending trade proposals"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--json", action="store_true", help="print one JSON document")
        command.set_defaults(handler=handler)
        if name == "proposals":
            command.add_argument("--all", action="store_true", help="include answered and expired proposals")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from config import ConfigError, load_settings
    from storage.errors import StoreError
    from trading.factory import live_banner

    try:
        settings = load_settings()
        from app.logs import protect

        protect(settings)  # every secret in the settings is redacted from every log record from here on
        banner = live_banner(settings)
        if banner:
            print(banner, file=sys.stderr)
        return args.handler(settings, args)
    except (ConfigError, StoreError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
