"""A signal's identity across cycles: its asset, its direction and the story its narrative rests on.

Two cycles that read the same headlines about an asset and call it the same way made the same
signal, whatever the clock said (a live cycle's as-of is "now") and however the price moved in
between: the ids of the headlines under `features.narrative.headlines` are the story. A new headline
in the narrative, or one that ages out of its window, makes a new signal. A signal stored without
them (made before features listed headlines, or by hand) is keyed by its as-of instead.

The key is a column of `signals` (filled on insert by the column's default), so that "seen before"
is one indexed lookup: /signals folds repeats into one row, and a signal is proposed at most once
(trading/proposal_builder.py). Revision 0005 computed it for the rows stored before it, with a
copy of this function frozen there.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Mapping


def signal_fingerprint(symbol: str, direction: str, as_of: datetime | None, features: Mapping[str, Any] | None) -> str:
    narrative = (features or {}).get("narrative") or {}
    headlines = sorted({str(h["id"]) for h in narrative.get("headlines") or () if isinstance(h, Mapping) and h.get("id")})
    basis: dict[str, Any] = {"symbol": symbol, "direction": direction}
    if headlines:
        basis["headlines"] = headlines
    else:
        basis["as_of"] = _utc(as_of).isoformat() if as_of is not None else None
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def fingerprint_default(context: Any) -> str:
    """The column default: the key of the row being inserted, from its own values."""
    row = context.get_current_parameters()
    return signal_fingerprint(row["symbol"], row["direction"], row.get("as_of"), row.get("features"))
