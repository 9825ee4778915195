"""The embedded snapshot cut at an earlier as-of: where the engine, honestly, makes a call that sizes to a proposal.

On the whole snapshot (as of 2025-12-13 10:14 UTC) every asset is a hold: ETH's only lean came from
one question headline, which counts as speculation (issue 12), and with no resolved record a call's
probability is its side's base rate (issue 15), which in a falling November and December is below
one half for every BUY. Cut at CALL_AS_OF instead, BTC's story (Decrypt, "Some Bitcoin Buying Firms
Are Selling as Losses Pile Up on Paper: Report") is gloomier than its tape, and BTC closed lower in
more than half of the 24-hour windows since 1 November: a SELL at the base rate, the one call
the embedded data support without a track record. Tests of the proposal flow run on this cut.
The files are the embedded feeds with the later items left out, nothing else changed; a feed whose
capture starts later (all but Decrypt's) is left out whole rather than kept empty.
"""
from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from providers.feeds import EMBEDDED_FEEDS_DIR
from tests.conftest import utc

CALL_AS_OF = utc(2025, 12, 11, 21, 40, 36)
_ITEM = re.compile(r"<item[\s>].*?</item>\s*", re.S)
_DATE = re.compile(r"<pubDate>\s*(.*?)\s*</pubDate>", re.S)


def feed_until(text: str, cutoff: datetime = CALL_AS_OF) -> str | None:
    """A feed's text without the items published after `cutoff`; None when no item is left."""
    def keep(match: re.Match[str]) -> str:
        date = _DATE.search(match.group(0))
        return match.group(0) if date is None or parsedate_to_datetime(date.group(1)) <= cutoff else ""

    kept = _ITEM.sub(keep, text)
    return kept if _ITEM.search(kept) else None


def feeds_until(directory: Path, cutoff: datetime = CALL_AS_OF) -> Path:
    """Copies of the embedded feed files into `directory`, without the items published after `cutoff`."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted(EMBEDDED_FEEDS_DIR.glob("*.rss")):
        kept = feed_until(path.read_text(encoding="utf-8"), cutoff)
        if kept is not None:
            (directory / path.name).write_text(kept, encoding="utf-8")
    return directory
