"""`chart SYMBOL` and the service behind chat's /chart: the data behind the picture (price, the narrative score
over the same hours, the calls, the headlines that moved the story), checked on a real cycle of the embedded
snapshot; the narrative path and its movers as pure functions; every way it can refuse, in one line."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import matplotlib.dates
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from PIL import Image

from cli.main import main
from config import load_settings
from eval.charts import chart_figure
from eval.labels import label_box
from providers.catalogue import load_catalogue
from intelligence.narrative import narrative_score
from intelligence.narrative_path import JUST_BEFORE, NarrativeParams, movers, narrative_path
from intelligence.relevance import Mention
from intelligence.types import Headline, Polarity
from pipeline.cycle import run_once
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from service.charts import ChartError, UnknownSymbol, symbol_chart
from storage.db import open_store
from tests.conftest import utc

CATALOGUE = load_catalogue()

NOW = utc(2026, 11, 21, 9, 0)
AS_OF = utc(2025, 12, 13, 10, 14)  # the snapshot's newest headline: the embedded run is as of then
PARAMS = NarrativeParams(timedelta(hours=24), timedelta(hours=72), timedelta(hours=6))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """One cycle of the embedded defaults, as `run --once` makes it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('chart') / 'store.db'}"
    settings = load_settings(database_url=url)
    sessions = open_store(url)
    report = run_once(settings, sessions, load_backend("embedded", "unused").backend, (), EmbeddedMarketData(), NOW)
    return settings, sessions, report


@pytest.fixture(scope="module")
def eth(store):
    settings, sessions, _ = store
    return symbol_chart(settings, sessions, "eth", NOW)


# --- the picture's data, from a real cycle ---

def test_the_window_ends_at_the_latest_call_and_shows_its_price_and_story(eth, store) -> None:
    report = store[2]
    signal = next(s for s in report.signals if s.symbol == "ETH")
    assert eth.symbol == "ETH" and eth.end == AS_OF == signal.as_of and eth.start == AS_OF - timedelta(days=7)
    data = eth.data
    assert data.bars and all(eth.start <= b.start and b.start + data.interval <= eth.end for b in data.bars)
    assert [s.as_of for s in data.signals] == [AS_OF] and data.signals[0].direction == signal.direction.value
    assert data.signals[0].price == pytest.approx(signal.price.last_close)
    # The line is what a cycle computes from the stored headlines: at the call, the call's own narrative score.
    assert _line_at(data, AS_OF) == pytest.approx(signal.narrative.score, abs=1e-9)
    assert len(data.times) == len(data.narrative) and list(data.times) == sorted(data.times)


def test_the_movers_are_stored_headlines_about_the_asset_and_moved_the_line(eth, store) -> None:
    data = eth.data
    assert 1 <= len(data.movers) <= 3
    titles = {h.title for h in _stored_headlines(store)}
    for mover in data.movers:
        assert mover.title in titles and eth.start <= mover.published <= eth.end
        before, after = _line_at(data, mover.published - JUST_BEFORE), _line_at(data, mover.published)
        assert after - before == pytest.approx(mover.move, abs=1e-9) and after == pytest.approx(mover.score)
    strongest = max(data.movers, key=lambda m: abs(m.move))
    assert f"{strongest.source}, {strongest.published:%d %b %H:%M}" in eth.caption


def test_the_picture_is_phone_shaped_and_labels_every_mover_beside_its_dot(eth) -> None:
    image = Image.open(io.BytesIO(eth.png))
    assert image.format == "PNG" and image.size[1] > image.size[0] >= 900  # portrait, not a thumbnail
    figure = chart_figure(eth.data)
    story = figure.axes[1]
    labels = [t for t in story.texts if t.get_text().isdigit()]
    assert [t.get_text() for t in labels] == [str(n) for n in range(1, len(eth.data.movers) + 1)]
    renderer = figure.canvas.get_renderer()
    frame = story.get_window_extent(renderer)
    boxes = [label_box(t, renderer) for t in labels]
    for label, mover, box in zip(labels, eth.data.movers, boxes):
        assert label.xy == (pytest.approx(matplotlib.dates.date2num(mover.published)), pytest.approx(mover.score))
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    lines = figure.axes[2].texts[0].get_text().splitlines()
    assert lines[0] == "Headlines that moved the story most:" and len(lines) >= 1 + 2 * len(eth.data.movers)


def test_the_caption_says_what_the_picture_shows(eth, store) -> None:
    signal = next(s for s in store[2].signals if s.symbol == "ETH")
    assert eth.caption.startswith("ETH (Ethereum), 06 Dec 10:14 to 13 Dec 10:14 UTC")
    if signal.actionable:
        assert f"latest {signal.direction.value} at {signal.probability:.0%} on 13 Dec 10:14" in eth.caption
    else:
        assert "No buy or sell call in this window." in eth.caption and "1 cycle held" in eth.caption
    assert len(eth.caption) <= 1024  # a Telegram photo caption


def test_more_days_show_more_of_the_same(store) -> None:
    settings, sessions, _ = store
    wide = symbol_chart(settings, sessions, "BTC", NOW, days=14)
    assert wide.end == AS_OF and wide.start == AS_OF - timedelta(days=14)
    assert len(wide.data.bars) > 300  # hourly bars of two weeks


# --- refusals, each one line ---

def test_an_unknown_symbol_is_named_with_the_nearest_known_ones(store) -> None:
    settings, sessions, _ = store
    with pytest.raises(UnknownSymbol, match=r"unknown symbol 'ETHH'; did you mean ETH"):
        symbol_chart(settings, sessions, "ETHH", NOW)


def test_a_symbol_with_nothing_stored_says_to_run_a_cycle(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ChartError, match=r"nothing stored about ETH yet .* run a cycle first"):
        symbol_chart(settings, open_store(settings.database_url), "ETH", NOW)


def test_an_unwatched_symbol_without_headlines_says_it_is_not_watched(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", universe=["BTC"])
    with pytest.raises(ChartError, match=r"nothing stored about ETH: it is not watched \(TB_UNIVERSE, /watch\)"):
        symbol_chart(settings, open_store(settings.database_url), "ETH", NOW)


def test_a_symbol_with_headlines_but_no_bars_says_which_bars_are_missing(store) -> None:
    settings, sessions, _ = store
    with pytest.raises(ChartError, match=r"cannot chart SPY: no bars for symbol 'SPY'"):
        symbol_chart(settings, sessions, "SPY", NOW)


def test_a_symbol_without_bars_says_so(store, tmp_path: Path) -> None:
    settings, sessions, _ = store
    (tmp_path / "bars").mkdir()
    bare = settings.model_copy(update={"bars_dir": tmp_path / "bars"})
    with pytest.raises(ChartError, match="cannot chart ETH: "):
        symbol_chart(bare, sessions, "ETH", NOW)


def test_days_out_of_range_are_refused(store) -> None:
    settings, sessions, _ = store
    with pytest.raises(ChartError, match="days must be more than 0"):
        symbol_chart(settings, sessions, "ETH", NOW, days=0)


# --- the command ---

def test_the_command_writes_the_png_and_prints_the_caption(store, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TB_DATABASE_URL", store[0].database_url)
    out = tmp_path / "eth.png"
    assert main(["chart", "ETH", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert Image.open(out).format == "PNG" and printed.startswith("ETH (Ethereum)") and f"Wrote {out}" in printed


@pytest.mark.parametrize("argv, code, message", [
    (["chart", "DOGEE", "--out", "x.png"], 2, "chart: unknown symbol 'DOGEE'; did you mean DOGE"),
    (["chart", "ETH", "--out", "/nonexistent/dir/x.png"], 1, "chart: cannot write /nonexistent/dir/x.png"),
])
def test_the_command_fails_in_one_line(store, monkeypatch, capsys, argv, code, message) -> None:
    monkeypatch.setenv("TB_DATABASE_URL", store[0].database_url)
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and len(err.splitlines()) == 1


def test_garbled_days_are_an_argument_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["chart", "ETH", "--out", "x.png", "--days", "a week"])
    assert exit_.value.code == 2 and "'a week' is not a number of days" in capsys.readouterr().err


# --- the narrative path and its movers, pure ---

def _mention(minutes: int, title: str) -> Mention:
    return Mention(Headline("Wire", title, utc(2025, 1, 1) + timedelta(minutes=minutes)), 1.0, in_title=True)


def _polarity(mention: Mention, score: float) -> tuple[str, Polarity]:
    positive, negative = max(score, 0.0), max(-score, 0.0)
    return mention.headline.content_hash, Polarity(positive, negative, 1.0 - positive - negative)


def test_the_path_is_the_narrative_at_each_time_and_the_biggest_arrival_leads() -> None:
    calm = [_mention(60 * n, f"Ether network update number {n} ships on schedule") for n in range(6)]
    shock = _mention(400, "Ether exchange hacked, funds drained overnight")
    polarity = dict([*(_polarity(m, 0.05) for m in calm), _polarity(shock, -0.9)])
    mentions = [*calm, shock]
    times = [utc(2025, 1, 1) + timedelta(minutes=30 * n) for n in range(20)]
    path = narrative_path(mentions, polarity, times, PARAMS)
    for when, value in zip(times, path):
        expected = narrative_score(mentions, polarity, when, PARAMS.half_life, PARAMS.window, PARAMS.burst_window)
        assert value == pytest.approx(expected.score)
    top = movers(mentions, polarity, times[0], times[-1], PARAMS, count=1)
    assert [m.title for m in top] == [shock.headline.title] and top[0].move < 0 and top[0].polarity < -0.5


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.floats(-1, 1)), min_size=1, max_size=12), st.integers(1, 4))
def test_movers_are_the_largest_moves_in_the_window_oldest_first(arrivals, count) -> None:
    mentions, polarity = [], {}
    for n, (minute, score) in enumerate(arrivals):
        mention = _mention(minute, f"Bitcoin story {n} {'up' if score > 0 else 'down'} {abs(score):.3f}")
        mentions.append(mention)
        polarity.update([_polarity(mention, score * 0.9)])
    start, end = utc(2025, 1, 1, 6), utc(2025, 1, 2, 12)
    found = movers(mentions, polarity, start, end, PARAMS, count)
    in_window = {m.headline.published for m in mentions if start <= m.headline.published <= end}
    assert len(found) == min(count, len(in_window))
    assert [m.published for m in found] == sorted(m.published for m in found)
    for mover in found:
        assert mover.published in in_window
        before, after = narrative_path(mentions, polarity, [mover.published - JUST_BEFORE, mover.published], PARAMS)
        assert mover.move == pytest.approx(after - before) and mover.score == pytest.approx(after)
    if found:  # nothing left out moved the score more than the smallest kept
        kept = {m.published for m in found}
        smallest = min(abs(m.move) for m in found)
        for when in in_window - kept:
            before, after = narrative_path(mentions, polarity, [when - JUST_BEFORE, when], PARAMS)
            assert abs(after - before) <= smallest + 1e-12


def _stored_headlines(store):
    from pipeline.news_input import recent_headlines

    with store[1]() as session:
        return recent_headlines(session, utc(2025, 1, 1), NOW)


def _line_at(data, when) -> float:
    return data.narrative[list(data.times).index(when)]
