"""Report or speculation: the classifier on hand-labelled real headlines, and on the grammar it reads."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from intelligence.headline_kind import Kind, classify_headline

CHECK = Path(__file__).resolve().parent / "data" / "headline_kinds.csv"


def _scores(split: str) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of "speculation" on one split of the check set."""
    tp = fp = fn = 0
    with CHECK.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != split:
                continue
            said, truth = classify_headline(row["text"]).speculative, row["label"] == "speculation"
            tp += said and truth
            fp += said and not truth
            fn += truth and not said
    return tp, fp, fn


def test_the_check_set_is_what_its_note_says() -> None:
    with CHECK.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 742 and {r["label"] for r in rows} == {"report", "speculation"}
    assert sum(r["split"] == "held-out" for r in rows) == 200
    assert sum(r["label"] == "speculation" for r in rows if r["split"] == "held-out") == 22


def test_on_held_out_headlines_speculation_is_called_right_four_times_in_five() -> None:
    """The 200 headlines drawn after the cues were frozen (tests/data/headline_kinds.md): precision 12/15,
    recall 12/22. Held here so that a change to the cues shows what it does to unseen headlines."""
    tp, fp, fn = _scores("held-out")
    assert tp / (tp + fp) >= 0.8 and tp / (tp + fn) >= 0.54


def test_on_the_development_headlines() -> None:
    tp, fp, fn = _scores("dev")  # read while the cues were written: optimistic, kept as a regression check
    assert tp / (tp + fp) >= 0.9 and tp / (tp + fn) >= 0.74


@pytest.mark.parametrize("title", [
    "Ether price rallied 260% last time this happened: Can ETH reach $5K?",
    "Is the Bull Market over? The AI Manhattan Project! Monad Launch Reaction!",
    "Markets ready to hit new highs?",
    "Bitcoin new year bear flag sparks $76K BTC price target next",
    "Cramer: Stocks could 'go much higher' if the EU caves on tariffs",
    "The S&P 500 could fall to the 2,600 area, says strategist",
    "Cramer Remix: Don't jump the gun\u2014Nvidia's stock isn't done falling",
    "Bitcoin Isn\u2019t Buying What the Fed Is Selling: Here\u2019s What the Charts Suggest Happens Next",
    "Daryl Guppy talks about downside targets for the DJIA and S&P 500",
])
def test_questions_and_guesses_at_a_price_are_speculation(title: str) -> None:
    assert classify_headline(title).kind is Kind.SPECULATION


@pytest.mark.parametrize("title", [
    "Bitcoin Plunges Below $90K as AI Worries Drag Nasdaq, Crypto Stocks Down",
    "Wall Street rally disintegrates shortly before the close",
    "Coinbase may debut prediction markets, tokenized stocks on Wednesday: Report",  # a plan, reported
    "UAE\u2019s Largest Fuel Retailer Will Accept Stablecoin in 980 Stations in Three Countries",
    "Why are comics shops closing as superheroes make a mint?",  # explains what is happening
    "What went wrong at British Steel?",  # asks about the past
    "Goodbye inverted yield curve? Fed looks for alternative signals to guide policy",  # a teaser, then a report
    "Theresa May faces Israeli pressure over Iran nuclear deal",  # a name, not a modal
    "Cramer: Dow could have 'easily' been down 1,000 points on Fed hike",  # looks back
    "CSX customers will likely bear the burden of higher steel tariffs: CEO",  # higher tariffs, not a price going higher
    "IMF cuts global growth forecast",
])
def test_reports_of_events_are_reports(title: str) -> None:
    kind = classify_headline(title)
    assert kind.kind is Kind.REPORT and kind.cue == ""


def test_the_cue_says_why() -> None:
    assert classify_headline("Can ETH reach $5K?").cue == "Can ETH reach $5K?"
    assert classify_headline("Bitcoin could soar to $200K, analyst says").cue == "could \u2026 soar"
