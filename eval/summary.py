"""The weekly summary as data: what chat renders and the store of messages keeps (light to import)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SummarySection:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class WeeklySummary:
    key: str  # one summary per ISO week: a re-run job must not post twice (the outbox dedupes on it)
    title: str
    sections: tuple[SummarySection, ...]
    photo: bytes | None  # reliability.png of the overall evaluation; None when the evaluation failed
    photo_caption: str
    artifacts: Path | None  # the eval_runs/<time>/ directory behind every number

    def __str__(self) -> str:  # chat code that formats the summary as a string gets the message, not the bytes
        return self.text

    @property
    def text(self) -> str:
        """The whole message as plain text, title first, a blank line before each section."""
        out = [self.title]
        for section in self.sections:
            out += ["", section.title, *section.lines]
        return "\n".join(out)
