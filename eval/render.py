"""Plain-text views of a report: the metrics table for the terminal, short sentences for chat."""
from __future__ import annotations

import enum

from eval.bootstrap import Interval
from eval.markets import comparison_lines
from eval.report import MIN_RESOLVED, EvalReport, ScoreSet


def _bracket(interval: Interval | None, fmt: str) -> str:
    return "" if interval is None else f" [{interval.low:{fmt}}, {interval.high:{fmt}}]"


def _cell(value: float | None, interval: Interval | None, fmt: str) -> str:
    return "n/a" if value is None else f"{value:{fmt}}{_bracket(interval, fmt)}"


def _row(name: str, s: ScoreSet, engine: ScoreSet | None) -> str:
    i = s.intervals
    advantage = "-" if engine is None else _cell(s.brier - engine.brier, i.get("engine_advantage"), "+.4f")
    return (f"{name:<15} {_cell(s.brier, i.get('brier'), '.4f'):<26} {_cell(s.log_loss, i.get('log_loss'), '.3f'):<23} "
            f"{s.ece:>6.3f}  {_cell(s.brier_skill, i.get('brier_skill'), '+.1%'):<24} {advantage}")


def counts_line(report: EvalReport) -> str:
    c = report.counts
    extra = [f"{c.open} open", f"{c.hold} holds"]
    if c.unresolvable:
        extra.append(f"{c.unresolvable} without bars")
    if c.duplicates:
        extra.append(f"{c.duplicates} duplicates folded")
    noun = "signal" if c.resolved == 1 else "signals"
    return f"{c.resolved} resolved {noun} ({', '.join(extra)})"


def metrics_table(report: EvalReport) -> str:
    lines = [f"Evaluation of {report.source}: {counts_line(report)}"]
    if report.engine is not None:
        lines += [
            f"{'':<15} {'Brier [95%]':<26} {'log-loss [95%]':<23} {'ECE':>6}  {'skill vs climatology':<24} "
            f"baseline minus engine Brier",
            _row("engine", report.engine, None),
            *(_row(name, s, report.engine) for name, s in report.baselines.items()),
            f"Hit rate {_cell(report.hit_rate, report.hit_rate_interval, '.0%')} over {report.days} "
            f"day{'s' if report.days != 1 else ''}; intervals resample whole days.",
        ]
    lines += [f"Prediction markets: {line}" for line in comparison_lines(report.markets)]
    lines += [f"Problem: {p}" for p in report.problems]
    return "\n".join(lines)


class Judgement(enum.Enum):
    """What the evaluation can say about the signals; the sentence and the pictures' headline both come from it."""

    NOTHING = "nothing"  # nothing has resolved
    PROVISIONAL = "provisional"  # too few signals or days to judge
    UNMEASURABLE = "unmeasurable"  # the base rate was perfect: no skill can be measured
    SKILL = "skill"
    WORSE = "worse"
    UNCLEAR = "unclear"  # the interval of the skill includes zero


def judgement(report: EvalReport) -> Judgement:
    """Read from the intervals, not the points."""
    if report.engine is None:
        return Judgement.NOTHING
    if report.note:
        return Judgement.PROVISIONAL
    skill = report.engine.intervals.get("brier_skill")
    if skill is None:
        return Judgement.UNMEASURABLE
    if skill.low > 0:
        return Judgement.SKILL
    if skill.high < 0:
        return Judgement.WORSE
    return Judgement.UNCLEAR


_SENTENCES = {
    Judgement.UNMEASURABLE: "The base rate was perfect over this span, so no skill can be measured.",
    Judgement.SKILL: "The signals beat the base rate, and the interval says it is not luck.",
    Judgement.WORSE: "The signals did worse than simply forecasting the base rate.",
    Judgement.UNCLEAR: "The signals cannot yet be told apart from the base rate: the interval includes no skill.",
}
_HEADLINES = {
    Judgement.NOTHING: "Nothing to judge yet",
    Judgement.UNMEASURABLE: "No skill measurable: the base rate was perfect",
    Judgement.SKILL: "The signals beat the base rate",
    Judgement.WORSE: "The signals did worse than the base rate",
    Judgement.UNCLEAR: "No edge over the base rate shown yet",
}


def verdict(report: EvalReport) -> str:
    """One sentence on whether the probabilities deserve trust."""
    said = judgement(report)
    if said in (Judgement.NOTHING, Judgement.PROVISIONAL):
        return report.note or "Nothing to judge yet."
    return _SENTENCES[said]


def headline(report: EvalReport) -> str:
    """The verdict in a few words, for the top of a picture: it never says more than the sentence does."""
    said = judgement(report)
    if said is Judgement.PROVISIONAL:
        n, days = report.counts.resolved, report.days
        if n < MIN_RESOLVED:
            return f"Provisional: only {n} signal{'s' if n != 1 else ''} so far"
        return f"Provisional: signals of only {days} day{'s' if days != 1 else ''}"
    return _HEADLINES[said]
