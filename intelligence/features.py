"""Every number behind a signal, as plain JSON-ready data: for signals.features and the run artifacts.

The evidence line in chat carries no numbers; this is where a reader finds them.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from intelligence.calibration import Skill
from intelligence.signal import Signal
from intelligence.sizing import risk_units, stop_distance


def _hours(span: timedelta) -> float:
    return span / timedelta(hours=1)


def signal_features(signal: Signal, bars_per_horizon: float) -> dict[str, Any]:
    price, narrative, trigger = signal.price, signal.narrative, signal.trigger
    hype = narrative.hype
    return {
        "price": {
            "timescales": price.timescales, "returns": price.returns, "volatility": price.volatility,
            "volume_ratio": price.volume_ratio, "aligned": price.aligned, "last_close": price.last_close,
            "last_bar_end": price.last_bar_end.isoformat(), "bars_used": price.bars_used,
            "timescale_hours": {name: _hours(span) for name, span in price.horizons.items()},
        },
        "narrative": {
            "score": narrative.score, "raw": narrative.raw, "mean": narrative.mean, "mass": narrative.mass,
            "headline_count": narrative.headline_count, "headlines_seen": narrative.headlines_seen,
            "duplicates_folded": narrative.duplicates_folded, "exact_duplicates": narrative.exact_duplicates,
            "near_duplicates": narrative.near_duplicates, "echoes": narrative.echoes,
            "effective_sources": narrative.effective_sources,
            "lead_share": narrative.lead_share, "speculative_share": narrative.speculative_share,
            "sources_positive": list(narrative.sources_positive),
            "sources_negative": list(narrative.sources_negative),
            "hype": None if hype is None else {
                "side": hype.side, "burst": hype.burst, "expected": hype.expected, "one_sided": hype.one_sided,
                "damping": hype.damping, "since": hype.since.isoformat(),
            },
            "headlines": [
                {"id": c.headline_id, "source": c.source, "title": c.title, "polarity": c.polarity, "weight": c.weight,
                 "published": c.published.isoformat() if c.published else None, "echoes": list(c.echoes),
                 "hyped": c.hyped, "speculation": c.speculation}
                for c in narrative.contributions
            ],
        },
        "divergence": {
            "combined": signal.divergence, "timescales": signal.divergences,
            "threshold": trigger.threshold if trigger else None,
            "adaptive": trigger.adaptive if trigger else False,
            "history": trigger.history if trigger else 0,
            "recent_median": trigger.recent_median if trigger else None,
        },
        "probability": {
            "value": signal.probability, "prior": signal.prior, "method": signal.probability_method,
            "base_rate": signal.base_rate, "edge": edge_summary(signal.edge) if signal.actionable else None,
        },
        "sizing": {
            "risk_units": risk_units(signal.probability),
            "stop_distance": stop_distance(price.volatility, bars_per_horizon) if signal.actionable else None,
        },
        "conviction": signal.conviction,
    }


def edge_summary(skill: Skill | None) -> dict[str, Any] | None:
    """Whether the record proves the engine's edge, and the numbers behind the words "no proven edge yet"."""
    if skill is None:
        return None
    interval = skill.slope_interval
    return {
        "status": skill.status, "cohort": skill.cohort, "calls": skill.calls, "days": skill.days,
        "slope": skill.slope, "slope_interval": list(interval) if interval else None, "weight": skill.weight,
        "brier_skill": skill.brier_skill,
        "brier_skill_interval": None if skill.brier_skill_low is None else [skill.brier_skill_low, skill.brier_skill_high],
    }
