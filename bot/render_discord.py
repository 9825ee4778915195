"""A `Doc` as Discord webhook messages: embeds with Markdown descriptions, escaped, within Discord's limits.

The same text in the same order as the Telegram rendering: the title is the embed title, the
sections are the description (split at 4096 per embed, 6000 per message, 10 embeds per message).
"""
from __future__ import annotations

from typing import Any

from bot.message_model import Doc, Line
from bot.split import DISCORD_DESCRIPTION_LIMIT, Atom, split_atoms, text_atom, utf16_len

TITLE_LIMIT = 256
MESSAGE_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
_COLOURS = {"info": 0x3B82F6, "good": 0x22C55E, "warn": 0xF59E0B, "bad": 0xEF4444}
# Discord treats a backslash before any punctuation as an escape; these would otherwise format.
_SPECIAL = set("\\*_~`|>#-[]()<")
_MARKS = {"bold": "**", "italic": "_"}
# Nobody gets pinged by a backup alert, whatever text it quotes.
NO_MENTIONS: dict[str, Any] = {"parse": []}


def escape(text: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def _text_atoms(text: str) -> list[Atom]:
    return [text_atom("\\" + c, c) if c in _SPECIAL else text_atom(c) for c in text]


def _line_atoms(ln: Line) -> list[Atom]:
    atoms: list[Atom] = []
    for span in ln:
        mark = _MARKS.get(span.style)
        if mark:
            atoms.append(Atom(mark, "open", closer=mark))
        atoms.extend(_text_atoms(span.text))
        if mark:
            atoms.append(Atom(mark, "close"))
    return atoms


def _description_atoms(doc: Doc) -> list[Atom]:
    atoms: list[Atom] = []
    for i, sec in enumerate(doc.sections):
        lines: list[list[Atom]] = []
        if i:
            lines.append([])
        if sec.title:
            lines.append([Atom("**", "open", closer="**"), *_text_atoms(sec.title), Atom("**", "close")])
        lines.extend(_line_atoms(ln) for ln in sec.lines)
        for j, ln_atoms in enumerate(lines):
            if atoms or j:
                atoms.append(text_atom("\n"))
            atoms.extend(ln_atoms)
    return atoms


def to_embeds(doc: Doc) -> list[dict[str, Any]]:
    """Embeds in order; only the first carries the title."""
    title = escape(doc.title)
    atoms = _description_atoms(doc)
    if utf16_len(title) > TITLE_LIMIT:  # too long for a title: it leads the description instead
        lead = [Atom("**", "open", closer="**"), *_text_atoms(doc.title), Atom("**", "close")]
        atoms = lead + [text_atom("\n"), text_atom("\n")] + atoms
        title = ""
    colour = _COLOURS[doc.tone]
    descriptions = split_atoms(atoms, DISCORD_DESCRIPTION_LIMIT) or [""]
    embeds = []
    for i, description in enumerate(descriptions):
        embed: dict[str, Any] = {"color": colour}
        if i == 0 and title:
            embed["title"] = title
        if description:
            embed["description"] = description
        embeds.append(embed)
    return embeds


def _size(embed: dict[str, Any]) -> int:
    return utf16_len(embed.get("title", "")) + utf16_len(embed.get("description", ""))


def discord_messages(doc: Doc) -> list[dict[str, Any]]:
    """Webhook payloads for `doc`, in order: embeds packed up to Discord's per-message limits."""
    messages: list[list[dict[str, Any]]] = []
    for embed in to_embeds(doc):
        last = messages[-1] if messages else None
        if last is not None and len(last) < EMBEDS_PER_MESSAGE and sum(map(_size, last)) + _size(embed) <= MESSAGE_LIMIT:
            last.append(embed)
        else:
            messages.append([embed])
    return [{"embeds": embeds, "allowed_mentions": NO_MENTIONS} for embeds in messages]
