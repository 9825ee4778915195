"""Trading commands for the shell: approve, reject, size, positions, pnl, orders, reconcile, audit verify.

Exit codes: 0 done; 1 refused (the message says why: expired, a guard, a bad size...);
3 needs confirmation (run it again with --confirm); 2 bad usage or configuration.
Top-level imports stay light: every CLI call imports this module.
"""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from cli.support import SHELL_ACTOR, operator_service, print_json

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings

NEEDS_CONFIRMATION = 3


def _action(result: Any, as_json: bool) -> int:
    if as_json:
        print_json(result)
    else:
        print(result.message)
        if result.needs_confirmation:
            print("Run the same command again with --confirm to go ahead.")
    if result.needs_confirmation:
        return NEEDS_CONFIRMATION
    return 0 if result.ok else 1


def cmd_approve(settings: Settings, args: argparse.Namespace) -> int:
    return _action(operator_service(settings).approve(args.id, SHELL_ACTOR, confirm=args.confirm), args.json)


def cmd_reject(settings: Settings, args: argparse.Namespace) -> int:
    return _action(operator_service(settings).reject(args.id, SHELL_ACTOR), args.json)


def cmd_size(settings: Settings, args: argparse.Namespace) -> int:
    return _action(operator_service(settings).size(args.id, args.size, SHELL_ACTOR, confirm=args.confirm), args.json)


def cmd_resume(settings: Settings, args: argparse.Namespace) -> int:
    return _action(operator_service(settings).resume(SHELL_ACTOR, confirm=args.confirm), args.json)


def _state_command(change: Any, verb: str) -> Any:
    def command(settings: Settings, args: argparse.Namespace) -> int:
        result = change(operator_service(settings))
        if args.json:
            print_json({"before": result.before, "trading_state": result.after, "changed": result.changed})
        elif result.changed:
            print(f"Trading {verb}: {result.before.value} -> {result.after.value}.")
        else:
            print(f"Trading was already {result.after.value}.")
        return 0

    return command


def cmd_positions(settings: Settings, args: argparse.Namespace) -> int:
    positions = operator_service(settings).positions()
    if args.json:
        print_json(positions)
        return 0
    if not positions:
        print("No open positions.")
    for p in positions:
        price = f"{p.market_price:,.6g}" if p.market_price is not None else "no price"
        pnl = f"{p.unrealized_pnl:+,.2f} USD" if p.unrealized_pnl is not None else "P&L unknown"
        stale = f"  (as last seen {p.seen_at:%Y-%m-%d %H:%M} UTC: broker unreachable)" if p.stale else ""
        print(f"{p.symbol:<6} {p.side:<5} {p.quantity:.6g} @ {p.avg_price:,.6g}, now {price}, {pnl}{stale}")
    return 0


def cmd_pnl(settings: Settings, args: argparse.Namespace) -> int:
    pnl = operator_service(settings).pnl()
    if args.json:
        print_json(pnl)
        return 0
    print(f"Equity {pnl.equity:,.2f} USD ({pnl.broker}, market time {pnl.market_time:%Y-%m-%d %H:%M} UTC)")
    print(f"Today {pnl.day_pnl:+,.2f} USD ({pnl.day_pnl_pct:+.2%}); realised {pnl.realized_pnl:+,.2f}, "
          f"unrealised {pnl.unrealized_pnl:+,.2f}, fees {pnl.fees:,.2f}")
    print(f"Peak {pnl.peak_equity:,.2f}, drawdown {pnl.drawdown_pct:.2%}, gross exposure {pnl.gross_exposure:,.2f} USD")
    if pnl.problem:
        print(f"STALE: {pnl.problem}")
    return 0


def cmd_orders(settings: Settings, args: argparse.Namespace) -> int:
    orders = operator_service(settings).orders(args.limit)
    if args.json:
        print_json(orders)
        return 0
    if not orders:
        print("No orders yet.")
    for o in orders:
        fill = f", filled {o.filled_quantity:.6g} at {o.filled_avg_price:,.6g}" if o.filled_avg_price else ""
        price = o.limit_price or o.stop_price
        at = f" at {price:,.6g}" if price else ""
        error = f" ({o.error})" if o.error else ""
        print(f"#{o.id} {o.client_order_id} proposal #{o.proposal_id} {o.role} {o.order_type} {o.side.upper()} "
              f"{o.quantity:.6g} {o.symbol}{at}: {o.status}{fill}{error}")
    return 0


def cmd_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    result = operator_service(settings).reconcile()
    if args.json:
        payload = {"checked_orders": result.checked_orders, "updated_orders": result.updated_orders,
                   "differences": list(result.differences), "clean": result.clean}
        print_json(payload)
    else:
        print(f"Checked {result.checked_orders} open orders, updated {result.updated_orders}.")
        print("\n".join(result.differences) if result.differences else "The broker and the store agree.")
    return 0 if result.clean else 1


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


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.render_text import render_status
    from cli.support import jsonable

    report = operator_service(settings).status()
    if args.json:
        payload = jsonable(report)
        payload["paused"] = report.paused
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(render_status(report))
    return 0


def cmd_proposals(settings: Settings, args: argparse.Namespace) -> int:
    from bot.render_text import render_proposal

    proposals = operator_service(settings).proposals(include_closed=args.all)
    if args.json:
        print_json(proposals)
    else:
        print("\n".join(render_proposal(p) for p in proposals) or "No pending proposals.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def command(name: str, handler: Any, text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.set_defaults(handler=handler)
        return parser

    command("status", cmd_status, "last run, sentiment backend, pending proposals, trading state and mode")
    command("proposals", cmd_proposals, "pending trade proposals").add_argument(
        "--all", action="store_true", help="include answered and expired proposals")

    command("pause", _state_command(lambda op: op.pause(SHELL_ACTOR), "paused"), "halt trading: no proposals, no orders")
    command("reduce", _state_command(lambda op: op.reduce(SHELL_ACTOR), "reducing"), "exits only: no new risk")
    resume = command("resume", cmd_resume, "resume trading (after a guard halt only with --confirm)")
    resume.add_argument("--confirm", action="store_true", help="acknowledge the guard breach that halted trading")
    approve = command("approve", cmd_approve, "approve a proposal and submit its order (once)")
    approve.add_argument("id", type=int, help="proposal id")
    approve.add_argument("--confirm", action="store_true", help="go ahead with a risky approval (above the suggested size)")
    command("reject", cmd_reject, "reject a proposal").add_argument("id", type=int, help="proposal id")
    size = command("size", cmd_size, "resize a proposal: 0.25 (quantity), 5%% (of equity) or 0.5x (of the suggestion)")
    size.add_argument("id", type=int, help="proposal id")
    size.add_argument("size", help="0.25, 5%% or 0.5x")
    size.add_argument("--confirm", action="store_true", help="go ahead above the suggested size")
    command("positions", cmd_positions, "open positions at the broker")
    command("pnl", cmd_pnl, "equity, today's P&L, realised and unrealised, drawdown")
    orders = command("orders", cmd_orders, "recent orders, newest first (entries and bracket legs)")
    orders.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    command("reconcile", cmd_reconcile, "compare the broker's orders and positions with the store; exit 1 on differences")
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 0 when intact, else name the first broken link")
    verify.add_argument("--json", action="store_true", help="print one JSON document")
    verify.set_defaults(handler=cmd_audit_verify)
