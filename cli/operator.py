"""The operator commands in the shell, derived from the one command table (service/commands.py).

Each row offered to the shell becomes a subcommand with the row's arguments, `--json`, and
`--confirm` where the row is confirmable. The handler runs through the operator service the
composition root builds; the answer prints as the same message model chat shows (`plain`), or as
one JSON document. Exit codes: 0 done; 1 refused (the message says why); 3 needs confirmation (run
it again with --confirm); 2 bad usage or configuration. Top-level imports stay light.
"""
from __future__ import annotations

import argparse
from functools import partial
from typing import TYPE_CHECKING, Any

from cli.support import SHELL_ACTOR, jsonable, print_json
from service.arguments import parse_count, parse_days, parse_id, parse_symbol
from service.commands import Arg, CommandSpec, for_channel

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings
    from service.proposal_card import ProposalCard

NEEDS_CONFIRMATION = 3


def _typed(parse: Any) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _add_argument(parser: argparse.ArgumentParser, arg: Arg) -> None:
    if arg.kind == "flag":
        parser.add_argument(f"--{arg.name}", action="store_true", help=arg.help)
    elif arg.kind == "count":
        parser.add_argument(f"--{arg.name}", type=_typed(parse_count), default=arg.default, help=arg.help)
    elif arg.kind == "words":
        parser.add_argument(arg.name, nargs="*", help=arg.help)
    else:
        parse = {"id": parse_id, "symbol": parse_symbol, "days": parse_days}.get(arg.kind, str)
        parser.add_argument(arg.name, type=_typed(parse),
                            help=arg.help.replace("%", "%%"), nargs=None if arg.required else "?")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for spec in for_channel("shell"):
        parser = subparsers.add_parser(spec.name, help=spec.summary.replace("%", "%%"))
        for arg in spec.arguments:
            _add_argument(parser, arg)
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        if spec.confirmable:
            parser.add_argument("--confirm", action="store_true", help="go ahead where it asks for a confirmation")
        parser.set_defaults(handler=partial(run_command, spec))


def run_command(spec: CommandSpec, settings: Settings, args: argparse.Namespace) -> int:
    from bot.message_model import plain
    from bot.messages import doc_for
    from service.commands import Call, Role
    from service.composition import build_app

    app = build_app(settings)
    try:
        values = {a.name: getattr(args, a.name) for a in spec.arguments}
        call = Call(SHELL_ACTOR, Role.OPERATOR, "shell", values, confirm=bool(getattr(args, "confirm", False)))
        result = spec.handler(app.service, call)
    finally:
        app.close()
    confirm = getattr(result, "needs_confirmation", False)
    if args.json:
        print_json(json_form(result))
    else:
        print(plain(doc_for(result)))
        if confirm:
            print("Run the same command again with --confirm to go ahead.")
    return exit_code(result)


def json_form(result: Any) -> Any:
    """The JSON document a command prints: the answer's own fields, lists as lists."""
    from service.results import StateChange, StatusReport
    from service.results import Markets, Positions, Proposals
    from service.watchlist import WatchlistView, WatchResult
    from trading.views import ReconcileView

    if isinstance(result, StatusReport):
        return {**jsonable(result), "paused": result.paused}
    if isinstance(result, StateChange):
        return {"before": result.before, "trading_state": result.after, "changed": result.changed}
    if isinstance(result, ReconcileView):
        return {**jsonable(result), "clean": result.clean}
    if isinstance(result, Proposals):
        return [card_json(card) for card in result.items]
    if isinstance(result, Positions):
        return [{**jsonable(held.position), "stop_price": held.stop_price, "target_price": held.target_price}
                for held in result.items]
    if isinstance(result, WatchlistView):
        return list(result.assets)
    if isinstance(result, WatchResult):
        return {**jsonable(result), "watchlist": list(result.watchlist.symbols), "changed": result.changed}
    if isinstance(result, Markets):
        found = result.section
        return {"enabled": result.enabled, "run_id": result.run_id, "as_of": result.as_of,
                "source": found.source if found else None, "note": found.note if found else None,
                "counts": dict(found.counts) if found else {}, "lines": list(found.lines) if found else []}
    items = getattr(result, "items", None)
    return items if isinstance(items, tuple) else result


def card_json(card: ProposalCard) -> dict[str, Any]:
    """A proposal card as one flat object: the proposal's own fields first (id, symbol, side, status...)."""
    fields = jsonable(card)
    return {**fields.pop("proposal"), **{k: v for k, v in fields.items() if k != "horizon"},
            "horizon_hours": card.horizon.total_seconds() / 3600, "risk_share": card.risk_share,
            "version": card.proposal.version}


def exit_code(result: Any) -> int:
    from service.results import ActionResult
    from service.watchlist import WatchResult
    from trading.views import ReconcileView

    if isinstance(result, WatchResult):
        return 0 if result.ok else 1
    if isinstance(result, ActionResult):
        return NEEDS_CONFIRMATION if result.needs_confirmation else 0 if result.ok else 1
    if isinstance(result, ReconcileView):
        return 0 if result.clean else 1
    return 0
