"""Commands for running it for months: `serve`, `health`, `env-example`.

Top-level imports stay light: every CLI call imports this module.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve", help="long-running: scheduled cycles, trading, digests and evaluation, the Telegram bot and "
                      "Discord alerts; one process at a time trades (the others stand by); stops on SIGINT/SIGTERM")
    serve.set_defaults(handler=cmd_serve)
    health = subparsers.add_parser("health", help="quick check of the store, serve, the last cycle, the providers, "
                                                  "the broker and the chat channels; exit 0 when healthy")
    health.add_argument("--json", action="store_true", help="print one JSON document")
    health.set_defaults(handler=cmd_health)
    example = subparsers.add_parser("env-example", help="print .env.example: every setting, its default and what "
                                                        "it allows, generated from config.py")
    example.set_defaults(handler=cmd_env_example)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import os

    from service.composition import utcnow
    from serve.logs import configure_logging, protect
    from serve.loop import serve
    from redaction import redact
    from storage.errors import StoreError

    protect(settings)
    configure_logging(settings.log_format, "debug" if getattr(args, "verbose", False) else settings.log_level)
    log = logging.getLogger("tracer_bullet.serve")
    if settings.telegram_token is None and settings.discord_webhook_url is None:
        log.warning("no chat channel configured (TB_TELEGRAM_TOKEN, TB_DISCORD_WEBHOOK_URL): digests and alerts "
                    "go to this log only")
    elif settings.telegram_token is not None and not settings.telegram_operators:
        log.warning("TB_TELEGRAM_OPERATORS is empty: nobody can control trading from Telegram")
    loop = asyncio.new_event_loop()
    try:
        try:
            result = loop.run_until_complete(serve(settings, utcnow, lambda holder: log.info("serve ready as %s", holder)))
        except StoreError:
            raise  # main says why the store cannot be opened
        except Exception as exc:  # say what failed in one line (the log has the traceback), never a secret
            log.exception("serve failed")
            print(f"serve stopped: {redact(f'{exc.__class__.__name__}: {exc}')}", file=sys.stderr)
            return 1
        if result.abandoned:
            # A job's thread outlived the grace time: leave without joining it. The store rolls its
            # open transaction back when the connection drops; the lease is already released.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(int(result.code))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    return int(result.code)


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    from cli.support import print_json
    from service.composition import utcnow
    from serve.health import check_health
    from serve.logs import protect

    protect(settings)
    report = check_health(settings, utcnow)
    if args.json:
        print_json({"healthy": report.healthy, "checks": list(report.checks)})
    else:
        for check in report.checks:
            print(f"{check.status.upper():<4} {check.name}: {check.detail}")
        print("healthy" if report.healthy else "unhealthy: " + "; ".join(report.reasons))
    return 0 if report.healthy else 1


def cmd_env_example(settings: Settings, args: argparse.Namespace) -> int:
    from cli.env_example import render_env_example

    sys.stdout.write(render_env_example())
    return 0
