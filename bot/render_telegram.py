"""A `Doc` as Telegram HTML (parse mode HTML): every piece of text escaped, cut into messages of at most 4096."""
from __future__ import annotations

import html

from bot.message_model import Doc, Line, Span
from bot.split import TELEGRAM_LIMIT, split_html

PARSE_MODE = "HTML"
_TAGS = {"bold": ("<b>", "</b>"), "italic": ("<i>", "</i>"), "plain": ("", "")}


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _span(span: Span) -> str:
    start, end = _TAGS[span.style]
    return f"{start}{escape(span.text)}{end}"


def _line(ln: Line) -> str:
    return "".join(_span(s) for s in ln)


def to_html(doc: Doc) -> str:
    out = [f"<b>{escape(doc.title)}</b>"]
    for sec in doc.sections:
        out.append("")
        if sec.title:
            out.append(f"<b>{escape(sec.title)}</b>")
        out.extend(_line(ln) for ln in sec.lines)
    return "\n".join(out)


def telegram_parts(doc: Doc, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The messages to send for `doc`, in order."""
    return split_html(to_html(doc), limit)
