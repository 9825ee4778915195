"""The Claude polarity cross-check inside a cycle: pick, ask (once per text, ever), record, blend.

Only runs when an Anthropic key is configured. No transaction is open while Claude is asked: the
stored verdicts are read first, and each answer is written in a short transaction of its own. Whatever goes wrong, the cycle keeps the model's
scores for what could not be checked and gets one Problem saying why, so the run is marked degraded.
Claude only nudges polarity; it never sees a price, a signal or an order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from intelligence.relevance import Mention
from intelligence.sentiment.crosscheck import LlmVerdict, blend, select_headlines
from intelligence.types import Headline, Polarity, Problem
from providers.claude import ClaudeConfig, ClaudeError, ClaudePolarity
from storage.db import Sessions
from storage.llm_models import LlmPolarityRow

WHERE = "Claude cross-check"


@dataclass(frozen=True)
class CrossCheck:
    polarity: dict[str, Polarity]  # by content hash: blended where checked, the model's elsewhere
    checked: int  # headlines whose polarity Claude nudged this cycle
    problems: tuple[Problem, ...]


def claude_from_settings(settings: Settings) -> ClaudePolarity | None:
    if settings.anthropic_api_key is None:
        return None
    return ClaudePolarity(ClaudeConfig(
        api_key=settings.anthropic_api_key.get_secret_value(), model=settings.anthropic_model,
        base_url=settings.anthropic_base_url, timeout=settings.claude_timeout_seconds,
    ))


def cross_check_polarity(
    settings: Settings, sessions: Sessions, mentions: Mapping[str, Sequence[Mention]], polarity: Mapping[str, Polarity],
    model_key: str, as_of: datetime, now: datetime, run_id: int,
    client_factory: Callable[[Settings], ClaudePolarity | None] = claude_from_settings,
) -> CrossCheck:
    try:
        client = client_factory(settings)
    except ValueError as exc:  # e.g. a blank key: say so, the cycle goes on with the model alone
        return CrossCheck(dict(polarity), 0, (Problem(WHERE, f"not configured correctly: {exc}"),))
    if client is None:
        return CrossCheck(dict(polarity), 0, ())
    chosen = select_headlines(mentions, polarity, as_of, timedelta(hours=settings.half_life_hours), settings.claude_top_n)
    wanted = {h.content_hash for found in chosen.values() for h in found}
    with sessions() as session:
        verdicts = _stored(session, client.llm_id, wanted)
    problem = None
    failed_assets = 0
    for headlines in chosen.values():
        ask = _unique([h for h in headlines if h.content_hash not in verdicts])
        if not ask:
            continue
        if problem is not None:  # the API already failed this cycle: do not wait on it again
            failed_assets += 1
            continue
        try:
            answers = client.rate([h.title for h in ask])
        except ClaudeError as exc:
            problem, failed_assets = str(exc), failed_assets + 1
            continue
        answered = dict(zip((h.content_hash for h in ask), answers, strict=True))
        verdicts.update(answered)
        with sessions.begin() as session:
            taken = set(_stored(session, client.llm_id, set(answered)))  # another cycle may have asked meanwhile
            for content_hash, verdict in answered.items():
                if content_hash not in taken:
                    _record(session, content_hash, client.llm_id, verdict, model_key, polarity[content_hash],
                            settings.claude_weight, run_id, now)
    blended = dict(polarity)
    for content_hash in wanted & verdicts.keys():
        blended[content_hash] = blend(polarity[content_hash], verdicts[content_hash], settings.claude_weight)
    problems: tuple[Problem, ...] = ()
    if problem is not None:
        assets = sum(1 for found in chosen.values() if found)
        problems = (Problem(WHERE, f"skipped for {failed_assets} of {assets} assets, model scores used: {problem}"),)
    return CrossCheck(blended, len(wanted & verdicts.keys()), problems)


def _unique(headlines: Sequence[Headline]) -> list[Headline]:
    return list({h.content_hash: h for h in headlines}.values())


def _stored(session: Session, llm: str, hashes: set[str]) -> dict[str, LlmVerdict]:
    rows = session.scalars(select(LlmPolarityRow).where(LlmPolarityRow.llm == llm, LlmPolarityRow.content_hash.in_(hashes)))
    return {row.content_hash: LlmVerdict(row.label, row.polarity) for row in rows}


def _record(session: Session, content_hash: str, llm: str, verdict: LlmVerdict, model_key: str, model: Polarity,
            weight: float, run_id: int, now: datetime) -> None:
    session.add(LlmPolarityRow(
        content_hash=content_hash, llm=llm, label=verdict.label, polarity=verdict.polarity, model=model_key,
        model_score=model.score, weight=weight, blended_score=blend(model, verdict, weight).score,
        run_id=run_id, checked_at=now,
    ))
