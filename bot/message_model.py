"""The one message model every chat renders: a title, sections of lines, lines of styled spans.

Telegram (HTML) and Discord (embeds) render a `Doc` with the same text in the same order; `plain`
is that text, and the parity tests hold both renderings to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Style = Literal["plain", "bold", "italic"]
Tone = Literal["info", "good", "warn", "bad"]


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = "plain"


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Section:
    title: str | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Doc:
    title: str
    sections: tuple[Section, ...] = ()
    tone: Tone = "info"


def when(ts: datetime | None) -> str:
    """A moment as every message shows it."""
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "never"


def line(*parts: str | Span) -> Line:
    """A line from plain strings and styled spans; empty strings are dropped."""
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts if (p.text if isinstance(p, Span) else p))


def bold(text: str) -> Span:
    return Span(text, "bold")


def italic(text: str) -> Span:
    return Span(text, "italic")


def section(title: str | None, *lines: Line) -> Section:
    return Section(title, tuple(lines))


def text_lines(text: str) -> tuple[Line, ...]:
    """Plain multi-line text (an alert body, a service message) as lines."""
    return tuple(line(part) for part in text.split("\n"))


def plain_lines(doc: Doc) -> list[str]:
    """The text of `doc`, line by line, as every rendering must show it: title, then each section
    after a blank line, its title first."""
    out = [doc.title]
    for sec in doc.sections:
        out.append("")
        if sec.title:
            out.append(sec.title)
        out.extend("".join(span.text for span in ln) for ln in sec.lines)
    return out


def plain(doc: Doc) -> str:
    return "\n".join(plain_lines(doc))
