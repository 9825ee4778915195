"""An evaluation on disk: metrics.json, calibration.csv, cohorts.csv, outcomes.csv and the two pictures."""
from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from eval import bootstrap, markets, plots
from eval.markets import comparison_document
from eval.render import headline
from eval.baselines import MIN_FIT
from eval.bootstrap import Interval
from eval.report import MIN_DAYS, MIN_RESOLVED, EvalReport, ScoreSet

DEFINITIONS = {
    "event": "a signal is right (hit) when the close at the end of its horizon is beyond the entry open "
             "in its direction; a flat close is a miss",
    "brier": "mean squared gap between the stated probability and the outcome (0 best, 0.25 = coin flip)",
    "log_loss": "mean negative log-likelihood of the outcomes, in nats (0.693 = coin flip)",
    "ece": "count-weighted mean gap between stated probability and hit rate over 10 equal-width bins",
    "brier_skill": "1 - brier / brier of the climatology on the same signals (> 0 beats the base rate)",
    "climatology": "walk-forward base rate of up moves known before each signal, (ups+1)/(moves+2); "
                   "P(right) = that rate for BUY, 1 - rate for SELL",
    "price_only": f"walk-forward ridge logistic fit of up moves on price_score alone, on moves known before each "
                  f"signal; the climatology until {MIN_FIT} moves are known",
    "sentiment_only": "the same fit on narrative_score alone",
    "engine_advantage": "baseline brier - engine brier, interval on the same resampled days (> 0: the engine is better)",
    "intervals": f"{bootstrap.LEVEL:.0%} percentile bootstrap over whole UTC days ({bootstrap.RESAMPLES} resamples); "
                 f"null when the signals span fewer than {MIN_DAYS} days",
    "too_few": f"fewer than {MIN_RESOLVED} resolved signals: the note says the numbers are provisional",
    "prediction_markets": markets.DEFINITION,
    "equity": "simple return on capital of following every resolved signal: the capital split into as many equal "
              "slices as signals were open at once, one slice per signal from its entry open to its exit close, "
              "slippage against each fill and the fee on each leg, no reinvestment; long_only trades the same "
              "windows long at the same costs",
}


def run_directory(base: Path, now: datetime) -> Path:
    """eval_runs/<UTC timestamp>/, with a suffix if two runs land in the same second."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    candidate, suffix = base / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"{stamp}-{suffix}"
    return candidate


def _pair(interval: Interval | None) -> list[float] | None:
    return None if interval is None else [interval.low, interval.high]


def _scores(scores: ScoreSet, engine_brier: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "brier": scores.brier,
        "log_loss": scores.log_loss,
        "ece": scores.ece,
        "brier_skill": scores.brier_skill,
        "intervals": {name: _pair(scores.intervals.get(name)) for name in ("brier", "log_loss", "brier_skill")},
    }
    if engine_brier is not None:
        advantage = scores.intervals.get("engine_advantage")
        out["engine_advantage"] = {"point": scores.brier - engine_brier, "low": advantage.low if advantage else None,
                                   "high": advantage.high if advantage else None}
    return out


def _trades(report: EvalReport) -> dict[str, Any]:
    if report.trades is None:
        return {"available": False, "note": report.trades_note}
    t = report.trades
    return {
        "available": True, "count": len(t.trades), "closed": len(t.closed), "winners": t.winners,
        "realized_pnl": t.realized_pnl, "fees": sum(x.fees for x in t.trades),
        "by_trade": [{"proposal_id": x.proposal_id, "signal_id": x.signal_id, "symbol": x.symbol,
                      "realized_pnl": x.realized_pnl, "fees": x.fees, "open_quantity": x.open_quantity,
                      "first_fill": x.first_fill.isoformat(), "last_fill": x.last_fill.isoformat()}
                     for x in t.trades],
    }


def _equity(report: EvalReport) -> dict[str, Any]:
    curve = report.equity
    return {"return_after_costs": curve.final if curve.points else None,
            "long_only_after_costs": curve.final_long_only if curve.points else None,
            "trades": curve.trades, "capital_slices": curve.slices,
            "fee_bps": curve.costs.fee_bps, "slippage_bps": curve.costs.slippage_bps,
            "points": [{"time": p.time.isoformat(), "signals": p.signals, "long_only": p.long_only}
                       for p in curve.points]}


def metrics_document(report: EvalReport) -> dict[str, Any]:
    engine = _scores(report.engine) if report.engine else None
    c = report.counts
    document: dict[str, Any] = {
        "source": report.source,
        "generated_at": report.generated_at.isoformat(),
        "count": c.resolved,
        "brier": engine["brier"] if engine else None,
        "log_loss": engine["log_loss"] if engine else None,
        "ece": engine["ece"] if engine else None,
        "brier_skill": engine["brier_skill"] if engine else None,
        "hit_rate": report.hit_rate,
        "intervals": {**(engine["intervals"] if engine else {}), "hit_rate": _pair(report.hit_rate_interval)},
        "baselines": {name: _scores(s, report.engine.brier if report.engine else None)
                      for name, s in report.baselines.items()},
        "note": report.note,
        "signals": {"total": c.total, "actionable": c.actionable, "resolved": c.resolved, "open": c.open,
                    "hold": c.hold, "unresolvable": c.unresolvable, "duplicates_folded": c.duplicates},
        "bootstrap": {"resamples": bootstrap.RESAMPLES, "level": bootstrap.LEVEL, "seed": bootstrap.SEED,
                      "unit": "UTC day of the signal", "days": report.days,
                      "min_days": MIN_DAYS},
        "baseline_fits": report.baseline_fits,
        "problems": report.problems,
        "trades": _trades(report),
        "prediction_markets": comparison_document(report.markets),
        "equity": _equity(report),
        "definitions": DEFINITIONS,
    }
    return document


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _outcome_rows(report: EvalReport) -> list[list[Any]]:
    rows = []
    for r in report.resolutions:
        s, o = r.signal, r.outcome
        rows.append([
            s.key, s.as_of.isoformat(), s.symbol, s.direction.value, "" if s.probability is None else s.probability,
            s.horizon.total_seconds() / 3600, r.status, "" if o is None else int(o.hit),
            "" if o is None else o.realized_return, "" if o is None else o.max_favorable,
            "" if o is None else o.max_adverse, "" if o is None else o.entry_time.isoformat(),
            "" if o is None else o.exit_time.isoformat(), r.problem or "",
        ])
    return rows


def write_artifacts(report: EvalReport, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = metrics_document(report)
    (directory / "metrics.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_csv(directory / "calibration.csv", ["bin_low", "bin_high", "count", "mean_probability", "hit_rate"], [
        [b.low, b.high, b.count, "" if b.mean_probability is None else b.mean_probability,
         "" if b.hit_rate is None else b.hit_rate] for b in report.calibration
    ])
    _write_csv(directory / "cohorts.csv", ["dimension", "value", "count", "hits", "win_rate", "win_low", "win_high",
                                           "mean_probability", "mean_return"], [
        [c.dimension, c.value, c.count, c.hits, c.win_rate, c.win_low, c.win_high, c.mean_probability, c.mean_return]
        for c in report.cohorts
    ])
    _write_csv(directory / "outcomes.csv", ["key", "as_of", "symbol", "direction", "probability", "horizon_hours",
                                            "status", "hit", "realized_return", "max_favorable", "max_adverse",
                                            "entry_time", "exit_time", "problem"], _outcome_rows(report))
    (directory / "reliability.png").write_bytes(reliability_image(report))
    (directory / "equity.png").write_bytes(equity_image(report))
    return directory


def reliability_image(report: EvalReport) -> bytes:
    return plots.reliability_png(report.calibration, report.counts.resolved,
                                 report.engine.ece if report.engine else None,
                                 "too few to judge yet" if report.note and report.counts.resolved else "")


def equity_image(report: EvalReport) -> bytes:
    return plots.equity_png(report.equity, headline(report), equity_subtitle(report))


def equity_subtitle(report: EvalReport) -> str:
    curve = report.equity
    if not curve.points:
        return ""
    cost = curve.costs.fee_bps + curve.costs.slippage_bps
    return (f"{curve.trades} signal{'s' if curve.trades != 1 else ''}, 1/{curve.slices} of the capital each,\n"
            f"{cost:g} bps fees and slippage a leg")
