"""Run artifacts: one JSON file per cycle with every number behind what the digest says.

Evidence lines carry no numbers; a reader who wants them opens `<artifacts_dir>/run-<id>.json`.
Secrets never go in: only the run's data, parameters and results.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from intelligence.calibration import Calibrator
from intelligence.cycle import CycleParams
from intelligence.features import edge_summary, signal_features
from intelligence.signal import Signal


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    as_of: datetime
    sentiment_backend: str
    headline_count: int
    params: CycleParams
    signals: Sequence[Signal]
    evidence: Mapping[str, str]  # by symbol
    bars_per_horizon: Mapping[str, float]  # by symbol: each asset has its own bar interval
    calibrator: Calibrator | None
    problems: Sequence[str]
    # Each matched prediction market's implied probability beside the engine's (pipeline/markets.py); None: off.
    prediction_markets: Mapping[str, Any] | None = None


def artifact_path(directory: Path, run_id: int) -> Path:
    return Path(directory) / f"run-{run_id}.json"


def calibrator_summary(calibrator: Calibrator | None) -> dict[str, Any] | None:
    if calibrator is None:
        return None
    return {
        "method": calibrator.method, "outcomes": calibrator.count, "hits": calibrator.hits,
        "min_outcomes": calibrator.min_outcomes,
        "base_rates": {symbol: {"up": rate.up, "windows": rate.windows}
                       for symbol, rate in sorted(calibrator.base_rates.items())},
        "edge": edge_summary(calibrator.pooled),
        "cohorts": {name: edge_summary(skill) for name, skill in sorted(calibrator.cohorts.items())},
    }


def run_document(record: RunRecord) -> dict[str, Any]:
    params = record.params
    return {
        "run_id": record.run_id,
        "as_of": record.as_of.isoformat(),
        "sentiment_backend": record.sentiment_backend,
        "headline_count": record.headline_count,
        "params": {
            "half_life_hours": params.half_life.total_seconds() / 3600,
            "window_hours": params.window.total_seconds() / 3600,
            "horizon_hours": params.horizon.total_seconds() / 3600,
            "burst_window_hours": params.burst_window.total_seconds() / 3600,
        },
        "calibration": calibrator_summary(record.calibrator),
        "problems": list(record.problems),
        "signals": [
            {
                "symbol": s.symbol, "direction": s.direction.value, "probability": s.probability,
                "edge": s.edge_status, "reason_codes": list(s.reason_codes), "evidence": record.evidence.get(s.symbol, ""),
                "features": signal_features(s, record.bars_per_horizon[s.symbol]),
            }
            for s in record.signals
        ],
        **({"prediction_markets": dict(record.prediction_markets)} if record.prediction_markets is not None else {}),
    }


def write_run_artifact(directory: Path, record: RunRecord) -> Path:
    """Writes atomically (temp file, then rename) so a reader never sees half a file."""
    path = artifact_path(directory, record.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(run_document(record), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                         encoding="utf-8")
    temporary.replace(path)
    return path
