"""Chat commands for the shell: `bot` runs the chat side alone, `outbox` shows what waits to be delivered.

Top-level imports stay light: every CLI call imports this module.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bot = subparsers.add_parser("bot", help="run the chat bot (Telegram commands, Discord alerts, outbox, scheduled "
                                            "digests) until Ctrl-C; `serve` also runs the cycles")
    bot.set_defaults(handler=cmd_bot)
    outbox = subparsers.add_parser("outbox", help="messages waiting in the outbox, and counts of sent and failed ones")
    outbox.add_argument("--json", action="store_true", help="print one JSON document")
    outbox.set_defaults(handler=cmd_outbox)


def cmd_bot(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from service.composition import utcnow
    from redaction import redact
    from bot.runtime import build_runtime
    from storage.db import open_store

    if settings.telegram_token is None and settings.discord_webhook_url is None:
        print("Nothing to run: set TB_TELEGRAM_TOKEN (and TB_TELEGRAM_OPERATORS) or TB_DISCORD_WEBHOOK_URL; "
              "see the README section on connecting a bot.", file=sys.stderr)
        return 2
    if settings.telegram_token is not None and not settings.telegram_operators:
        print("warning: TB_TELEGRAM_OPERATORS is empty, so nobody can control trading from Telegram; "
              "send /start to the bot to learn your user id.", file=sys.stderr)

    async def main() -> None:
        runtime = build_runtime(settings, open_store(settings.database_url), utcnow)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("Chat bot running; Ctrl-C stops it.", file=sys.stderr)
        await runtime.run(stop)

    try:
        asyncio.run(main())
    except Exception as exc:  # say what failed in one line, never with a token in it
        print(f"bot stopped: {redact(f'{exc.__class__.__name__}: {exc}')}", file=sys.stderr)
        return 1
    return 0


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from cli.support import print_json
    from service.composition import utcnow
    from bot.outbox import Outbox
    from storage.db import open_store

    outbox = Outbox(open_store(settings.database_url), utcnow)
    counts, pending = outbox.counts(), outbox.pending()
    if args.json:
        print_json({"counts": counts, "pending": [
            {"id": m.id, "key": m.key, "channel": m.channel, "kind": m.kind, "attempts": m.attempts,
             "next_attempt_at": m.next_attempt_at} for m in pending]})
        return 0
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "The outbox is empty.")
    for m in pending:
        print(f"  #{m.id} {m.channel} {m.kind} {m.key}: {m.attempts} attempt(s), next {m.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0
