"""`audit verify`: check the audit hash chain; exit 0 when intact, else name the first broken link."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.support import print_json

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 0 when intact, else name the first broken link")
    verify.add_argument("--json", action="store_true", help="print one JSON document")
    verify.set_defaults(handler=cmd_audit_verify)


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import open_store
    from trading.audit import verify

    with open_store(settings.database_url)() as session:
        report = verify(session)
    if args.json:
        print_json({"intact": report.intact, "count": report.count, "broken_seq": report.broken_seq, "reason": report.reason})
    elif report.intact:
        print(f"Audit chain intact: {report.count} links.")
    else:
        print(f"Audit chain BROKEN at link {report.broken_seq}: {report.reason}")
    return 0 if report.intact else 1
