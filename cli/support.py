"""What every command-line handler shares: the clock, the shell operator, JSON output."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # every CLI call imports this module: the operator service and the store load on first use
    from trading.alerts import Notifier
    from service.operator import OperatorService
    from config import Settings

# The shell user counts as an operator (DESIGN.md); audit records name them this way.
SHELL_ACTOR = "shell"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def operator_service(settings: Settings, notifier: Notifier | None = None) -> OperatorService:
    """The one wiring for shell and chat. Trading (trading.factory: simulated broker without Alpaca
    keys, Alpaca otherwise) is built on first use, alerting through `notifier` (default: the log)."""
    from service.operator import OperatorService
    from storage.db import open_store

    sessions = open_store(settings.database_url)
    desk = None
    if notifier is not None:
        from trading.factory import build_desk

        desk = build_desk(settings, sessions, utcnow, notifier)
    return OperatorService(settings, sessions, utcnow, desk)
