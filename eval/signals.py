"""The signals under evaluation, from a replay's signals.csv or from the store, in one shape."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from intelligence.types import Direction
from storage.models import SignalRow

REQUIRED_COLUMNS = ("as_of", "symbol", "direction", "probability", "horizon_hours", "narrative_score", "price_score")


class SignalsError(ValueError):
    """A signals file that cannot be evaluated; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class EvalSignal:
    key: str  # store id, or "line N" of the CSV: how a reader finds the signal again
    as_of: datetime
    symbol: str
    direction: Direction
    probability: float | None  # P(direction right over the horizon); None for HOLD
    horizon: timedelta
    conviction: float | None
    narrative_score: float
    price_score: float
    reason_codes: tuple[str, ...]
    sources: tuple[str, ...]  # news sources behind the narrative

    @property
    def actionable(self) -> bool:
        return self.direction is not Direction.HOLD


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(";") if part.strip())


def _number(where: str, name: str, text: str | None, optional: bool = False) -> float | None:
    text = (text or "").strip()
    if not text:
        if optional:
            return None
        raise SignalsError(f"{where}: {name} is empty")
    try:
        value = float(text)
    except ValueError:
        raise SignalsError(f"{where}: {name} is not a number ({text!r})") from None
    if not math.isfinite(value):
        raise SignalsError(f"{where}: {name} is not a finite number ({text!r})")
    return value


def _time(where: str, text: str | None) -> datetime:
    try:
        ts = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise SignalsError(f"{where}: as_of {text!r} is not an ISO 8601 time") from None
    if ts.tzinfo is None:
        raise SignalsError(f"{where}: as_of {text!r} has no UTC offset; a signal time must say its zone")
    return ts.astimezone(timezone.utc)


def _direction(where: str, text: str | None) -> Direction:
    try:
        return Direction((text or "").strip().upper())
    except ValueError:
        raise SignalsError(f"{where}: direction {text!r} is not one of BUY, SELL, HOLD") from None


def checked_signal(where: str, key: str, as_of: datetime, symbol: str, direction: Direction, probability: float | None,
                   horizon_hours: float, conviction: float | None, narrative: float, price: float,
                   reasons: Iterable[str], sources: Iterable[str]) -> EvalSignal:
    """One signal with the invariants every metric relies on, or an error naming where it broke."""
    if not symbol.strip():
        raise SignalsError(f"{where}: symbol is empty")
    if direction is Direction.HOLD:
        probability = None  # a HOLD forecasts nothing, whatever number stands beside it
    elif probability is None:
        raise SignalsError(f"{where}: a {direction.value} signal needs a probability")
    elif not 0.0 <= probability <= 1.0:
        raise SignalsError(f"{where}: probability {probability:g} is outside [0, 1]")
    if horizon_hours <= 0:
        raise SignalsError(f"{where}: horizon_hours must be positive, got {horizon_hours:g}")
    return EvalSignal(
        key=key, as_of=as_of, symbol=symbol.strip().upper(), direction=direction, probability=probability,
        horizon=timedelta(hours=horizon_hours), conviction=conviction, narrative_score=narrative,
        price_score=price, reason_codes=tuple(reasons), sources=tuple(sorted(set(sources))),
    )


def read_signals_csv(path: Path) -> list[EvalSignal]:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SignalsError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
            return [_row_signal(f"{path}: line {reader.line_num}", reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise SignalsError(f"{path}: no such signals file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SignalsError(f"{path}: not a readable CSV file ({exc})") from None


def _row_signal(where: str, line: int, row: dict[str, Any]) -> EvalSignal:
    if None in row:
        raise SignalsError(f"{where}: more fields than the header has")
    return checked_signal(
        where, f"line {line}", _time(where, row["as_of"]), row["symbol"] or "", _direction(where, row["direction"]),
        _number(where, "probability", row["probability"], optional=True),
        _number(where, "horizon_hours", row["horizon_hours"]),  # type: ignore[arg-type]
        _number(where, "conviction", row.get("conviction"), optional=True),
        _number(where, "narrative_score", row["narrative_score"]),  # type: ignore[arg-type]
        _number(where, "price_score", row["price_score"]),  # type: ignore[arg-type]
        _split(row.get("reason_codes")), _split(row.get("sources")),
    )


def _row_sources(features: dict[str, Any] | None) -> list[str]:
    narrative = (features or {}).get("narrative") or {}
    return [h["source"] for h in narrative.get("headlines") or () if isinstance(h, dict) and h.get("source")]


def store_signal(row: SignalRow) -> EvalSignal:
    return checked_signal(
        f"signal {row.id}", str(row.id), row.as_of, row.symbol, _direction(f"signal {row.id}", row.direction),
        row.probability, row.horizon_hours, row.conviction, row.narrative_score, row.price_score,
        row.reason_codes or (), _row_sources(row.features),
    )


def load_store_signals(session: Session) -> list[EvalSignal]:
    return [store_signal(row) for row in session.scalars(select(SignalRow).order_by(SignalRow.as_of, SignalRow.id))]
