"""Plain-text rendering for the terminal: the same facts, in the same order, that chat will show."""
from __future__ import annotations

from datetime import datetime

from service.operator import ProposalView, StatusReport
from intelligence.digest import Digest, DigestItem
from intelligence.types import Direction

_ARROW = {Direction.BUY: "BUY ", Direction.SELL: "SELL", Direction.HOLD: "hold"}


def when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "never"


def _item(item: DigestItem) -> str:
    chance = f"{item.probability:.0%} chance right" if item.probability is not None else "no trade"
    head = f"{item.rank:>2}. {item.symbol:<5} {_ARROW[item.direction]}  {chance:<16} [{', '.join(item.reason_codes)}]"
    return f"{head}\n      {item.evidence}"


def render_digest(digest: Digest) -> str:
    lines = [
        f"Tracer Bullet digest as of {when(digest.as_of)}" + (f" ({digest.as_of_basis})" if digest.as_of_basis else ""),
        f"{digest.headline_count} headlines read; sentiment by the {digest.sentiment_backend} model.",
    ]
    if digest.degraded:
        lines.append("DEGRADED: " + "; ".join(digest.problems))
    lines.append("")
    lines.extend(_item(item) for item in digest.items)
    if digest.proposal:
        lines += ["", digest.proposal]
    return "\n".join(lines)


def render_proposal(p: ProposalView) -> str:
    return (
        f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol} (about {p.notional:,.0f} USD), "
        f"{p.probability:.0%} chance right, {p.status}, expires {when(p.expires_at)}"
    )


def render_status(report: StatusReport) -> str:
    lines = [
        f"Trading state: {report.trading_state.value}"
        + (f" (halted by the {report.halted_by_guard} guard)" if report.halted_by_guard else " (paused)" if report.paused else ""),
        f"Mode: {report.mode}" + ("  *** LIVE TRADING WITH REAL MONEY ***" if report.mode == "live" else ""),
        f"Sentiment backend: {report.sentiment_backend}",
        f"Last run: {when(report.last_run)}"
        + (f" ({report.last_run_status}, data as of {when(report.last_as_of)})" if report.last_run else ""),
    ]
    if report.problems:
        lines.append("Problems in the last run: " + "; ".join(report.problems))
    if report.pending_proposals:
        lines.append("Pending proposals:")
        lines.extend("  " + render_proposal(p) for p in report.pending_proposals)
    else:
        lines.append("Pending proposals: none")
    return "\n".join(lines)
