"""Splitting formatted text at a channel's limit: nothing lost, nothing reordered, no tag broken."""
from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.split import Atom, html_atoms, split_atoms, split_html, text_atom, utf16_len, visible_text
from tests.fake_telegram import parse_html

# Text with what breaks naive splitters: entities, newlines, runs of spaces, long words, emoji
# outside the BMP (two UTF-16 units each), and characters that need escaping.
_CHARS = st.sampled_from(list("ab xyz\n\n  ") + ["<", ">", "&", "é", "😀", "𝔘", "\u200d"])
_TEXT = st.lists(_CHARS, max_size=40).map("".join) | st.text(min_size=0, max_size=30)
_TAGS = ["b", "i", "u", "s", "code", 'a href="https://x.io/?a&amp;b"', "tg-spoiler"]


@st.composite
def html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            name = tag.split()[0]
            pieces.append(f"<{tag}>{draw(html_documents(depth + 1))}</{name}>")
        else:
            pieces.append(html.escape(draw(_TEXT), quote=False))
    return "".join(pieces)


def _styled(markup: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each visible character with the tags around it: what a reader sees, formatting included."""
    out, stack = [], []
    for atom in html_atoms(markup):
        if atom.kind == "open":
            stack.append(atom.raw)
        elif atom.kind == "close":
            stack.pop()
        else:
            out.extend((c, tuple(stack)) for c in atom.visible)
    return out


@settings(max_examples=100, deadline=None)
@given(html_documents(), st.integers(min_value=150, max_value=400))
def test_html_split_keeps_every_character_in_order_with_its_formatting(markup: str, limit: int) -> None:
    chunks = split_html(markup, limit)
    assert all(utf16_len(c) <= limit for c in chunks)
    # Each chunk is well formed on its own (html_atoms raises on a broken tag) and Telegram would take it.
    joined = [pair for c in chunks for pair in _styled(c)]
    assert joined == _styled(markup)
    assert "".join(parse_html(c) for c in chunks) == html.unescape(visible_text(html_atoms(markup)))
    assert all(visible_text(html_atoms(c)) for c in chunks)  # no empty message


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abc de", min_size=1, max_size=30), min_size=1, max_size=40))
def test_lines_are_kept_whole_when_they_fit(lines: list[str]) -> None:
    markup = "\n".join(f"<b>{line}</b>" for line in lines)
    for chunk in split_html(markup, 80):
        # A cut falls after a line break whenever the next line fits in a fresh chunk.
        assert not chunk.startswith("<b></b>")
        body = chunk.rstrip("\n")
        assert body.count("<b>") == body.count("</b>")


def test_short_text_is_one_chunk_unchanged() -> None:
    assert split_html("<b>hi</b> &amp; bye") == ["<b>hi</b> &amp; bye"]


def test_a_long_word_is_cut_inside_its_tag_and_reopened() -> None:
    chunks = split_html("<b>" + "x" * 50 + "</b>", 20)
    assert all(c.startswith("<b>") and c.endswith("</b>") and len(c) <= 20 for c in chunks)
    assert "".join(c[3:-4] for c in chunks) == "x" * 50


def test_entities_are_never_cut() -> None:
    chunks = split_html("&amp;" * 30, 12)
    assert all(c.replace("&amp;", "") == "" for c in chunks)
    assert sum(c.count("&amp;") for c in chunks) == 30


def test_limit_counts_utf16_units() -> None:
    chunks = split_html("😀" * 10, 4)  # two units each: two per chunk
    assert chunks == ["😀😀"] * 5


def test_a_limit_too_small_for_the_nesting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_html("<b><i>text</i></b>", 8)


@pytest.mark.parametrize("bad", ["<b>open", "</b>", "<b><i>x</b></i>"])
def test_unbalanced_html_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        html_atoms(bad)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.text(alphabet="ab *_\n😀", max_size=25)), max_size=30),
       st.integers(min_value=12, max_value=120))
def test_markdown_atoms_split_the_same_way(spans: list[tuple[bool, str]], limit: int) -> None:
    atoms: list[Atom] = []
    for is_bold, text in spans:
        if is_bold:
            atoms.append(Atom("**", "open", closer="**"))
        atoms.extend(text_atom("\\" + c, c) if c in "*_" else text_atom(c) for c in text)
        if is_bold:
            atoms.append(Atom("**", "close"))
    chunks = split_atoms(atoms, limit)
    assert all(utf16_len(c) <= limit for c in chunks)
    assert all(c.count("**") % 2 == 0 for c in (chunk.replace("\\*", "") for chunk in chunks))
    unescaped = "".join(c.replace("\\*", "\0").replace("**", "").replace("\\_", "_").replace("\0", "*") for c in chunks)
    assert unescaped == visible_text(atoms)


@given(html_documents(), st.integers(min_value=20, max_value=5000))
def test_markup_that_fits_takes_the_short_path_to_the_same_result(markup: str, limit: int) -> None:
    # split_html skips the atoms when everything fits: same chunks as cutting atom by atom would give
    try:
        expected = split_atoms(html_atoms(markup), limit)
    except ValueError:
        return  # a limit too small for the nesting: not the short path's business
    assert split_html(markup, limit) == expected


@pytest.mark.parametrize("markup", ["<b>x</i>", "<b><i>x</b></i>", "<B>x</b></b>", "x<b>"])
def test_unbalanced_html_is_refused_however_short(markup: str) -> None:
    with pytest.raises(ValueError):
        split_html(markup)


def test_empty_elements_go_and_nothing_visible_means_no_message() -> None:
    assert split_html("<b><i></i></b>a<B></b>") == ["a"]
    assert split_html("<b></b>") == []
