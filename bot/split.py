"""Split formatted text into messages under a channel's length limit without breaking its markup.

Text is a sequence of atoms: an opening tag (which knows its closer), a closing tag, or one visible
character (an HTML entity or a Markdown escape is one atom). Chunks end at a line break when one
fits, else at a space, else anywhere; every tag open at a cut is closed at the end of the chunk and
reopened at the start of the next, so each chunk is well formed on its own and the visible text of
the chunks, joined, is exactly the visible text of the input.

Lengths are counted in UTF-16 code units over the raw markup (tags included): Telegram counts text
in UTF-16 after parsing entities, so this bound is never looser than the real one.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Iterator, Literal, Sequence

TELEGRAM_LIMIT = 4096
DISCORD_DESCRIPTION_LIMIT = 4096


@dataclass(frozen=True)
class Atom:
    raw: str
    kind: Literal["text", "open", "close"]
    closer: str = ""  # for "open": the raw text that closes it
    visible: str = ""  # for "text": what a reader sees


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_atom(raw: str, visible: str | None = None) -> Atom:
    return Atom(raw, "text", visible=raw if visible is None else visible)


_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>|&(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);|.", re.S)


def html_atoms(markup: str) -> list[Atom]:
    """Atoms of well-formed HTML as Telegram's HTML parse mode takes it; ValueError if unbalanced."""
    atoms: list[Atom] = []
    open_names: list[str] = []
    for match in _HTML_TOKEN.finditer(markup):
        raw, name = match.group(0), match.group(2)
        if name is None:
            atoms.append(text_atom(raw, html.unescape(raw)))
        elif match.group(1):
            if not open_names or open_names[-1] != name.lower():
                raise ValueError(f"closing </{name}> does not match the open tags {open_names}")
            open_names.pop()
            atoms.append(Atom(raw, "close"))
        else:
            open_names.append(name.lower())
            atoms.append(Atom(raw, "open", closer=f"</{name}>"))
    if open_names:
        raise ValueError(f"tags left open: {open_names}")
    return atoms


def visible_text(atoms: Sequence[Atom]) -> str:
    return "".join(a.visible for a in atoms if a.kind == "text")


def _units(atoms: Sequence[Atom], separator: str) -> Iterator[list[Atom]]:
    """Runs of atoms, each ending just after a `separator` character (the last run may not)."""
    run: list[Atom] = []
    for atom in atoms:
        run.append(atom)
        if atom.kind == "text" and atom.visible == separator:
            yield run
            run = []
    if run:
        yield run


class _Chunker:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.stack: list[Atom] = []  # tags open at the end of the current chunk
        self._start_new()

    def _start_new(self) -> None:
        self.current: list[Atom] = list(self.stack)  # reopen what the previous chunk had open
        self.length = sum(utf16_len(a.raw) for a in self.current)

    @staticmethod
    def _after(stack: list[Atom], atoms: Sequence[Atom]) -> list[Atom]:
        stack = list(stack)
        for atom in atoms:
            if atom.kind == "open":
                stack.append(atom)
            elif atom.kind == "close":
                stack.pop()
        return stack

    def fits(self, atoms: Sequence[Atom]) -> bool:
        closers = sum(utf16_len(a.closer) for a in self._after(self.stack, atoms))
        return self.length + sum(utf16_len(a.raw) for a in atoms) + closers <= self.limit

    def add(self, atoms: Sequence[Atom]) -> None:
        self.current.extend(atoms)
        self.length += sum(utf16_len(a.raw) for a in atoms)
        self.stack = self._after(self.stack, atoms)

    def has_text(self, substantial: bool) -> bool:
        texts = [a.visible for a in self.current if a.kind == "text"]
        return any(t.strip() for t in texts) if substantial else bool(texts)

    def flush(self) -> None:
        body = list(self.current)
        open_here = list(self.stack)
        while body and body[-1].kind == "open":  # a tag opened right at the cut belongs to the next chunk
            body.pop()
            open_here.pop()
        if any(a.kind == "text" for a in body):
            self.chunks.append("".join(a.raw for a in body) + "".join(a.closer for a in reversed(open_here)))
        self._start_new()

    def place(self, atoms: list[Atom], level: int) -> None:
        """Lines (level 0), then words (1), then single atoms (2): the largest unit that fits."""
        if self.fits(atoms):
            self.add(atoms)
            return
        if self.has_text(substantial=level < 2):
            self.flush()
            if self.fits(atoms):
                self.add(atoms)
                return
        if level == 2:
            raise ValueError(f"limit {self.limit} is too small for {atoms[0].raw!r} inside {len(self.stack)} open tag(s)")
        for unit in _units(atoms, " ") if level == 0 else ([a] for a in atoms):
            self.place(list(unit), level + 1)


def _without_empty_elements(atoms: Sequence[Atom]) -> list[Atom]:
    """Drop tags that enclose no text (they show nothing and would only cost room)."""
    out: list[Atom] = []
    for atom in atoms:
        if atom.kind == "close" and out and out[-1].kind == "open":
            out.pop()
        else:
            out.append(atom)
    return out


def split_atoms(atoms: Sequence[Atom], limit: int) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, each well formed; no visible character lost or moved."""
    chunker = _Chunker(limit)
    for line in _units(_without_empty_elements(atoms), "\n"):
        chunker.place(line, 0)
    chunker.flush()
    return chunker.chunks


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_EMPTY_ELEMENT = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)[^>]*></\1>", re.I)


def _whole(markup: str) -> list[str]:
    """What split_atoms makes of markup that fits in one message, without cutting it into atoms:
    the markup less its empty elements, or nothing when no text is left. ValueError if unbalanced."""
    open_names: list[str] = []
    for match in _TAG.finditer(markup):
        name = match.group(2).lower()
        if not match.group(1):
            open_names.append(name)
        elif not open_names or open_names.pop() != name:
            html_atoms(markup)  # raises, naming the tag
    if open_names:
        html_atoms(markup)
    while True:
        lean = _EMPTY_ELEMENT.sub("", markup)
        if lean == markup:
            break
        markup = lean
    return [markup] if _TAG.sub("", markup) else []


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    # Nearly every reply fits in one message; atoms (one object per character) are for cutting.
    if utf16_len(markup) <= limit:
        return _whole(markup)
    return split_atoms(html_atoms(markup), limit)
