"""What every answer says, as a message model: the one place a proposal, a position or a digest is worded.

The wording is kept in four modules by what it is about: bot/message_words.py (`doc_for`, numbers,
the proposal card), bot/digest_messages.py (the digest and prediction markets),
bot/account_messages.py (state, positions, P&L, orders, exits, trade reports) and this one (signals,
subscriptions, the watchlist, charts, help, pushed alerts and notices); importing this module
registers them all with `doc_for`.

`doc_for(result)` turns whatever a command handler returned (service/commands.py) into a `Doc`;
Telegram, Discord and the terminal (`plain`) render that same Doc. Alerts, digests and the weekly
summary that are pushed rather than asked for use the same builders.
"""
from __future__ import annotations


from eval.summary import WeeklySummary
from bot.message_model import Doc, Line, Section, Tone, bold, italic, line, section, text_lines, when
from service.chat_ops import SignalView, SubscriptionView
from service.commands import Help, Intro
from service.results import (
    ChartImage, ChartRefused, Signals,
    Unsubscribed,
)
from service.watchlist import WatchlistView, WatchResult
from trading.alerts import Alert
# The answers worded in the modules below are named here too, so callers need one module: bot.messages.
from bot.message_words import _DIRECTION, _chance, _codes, card_lines as card_lines, doc_for as doc_for
from bot.message_words import proposal_doc as proposal_doc
from bot.digest_messages import digest_doc as digest_doc, full_digest_doc as full_digest_doc, markets_doc as markets_doc
from bot import account_messages  # noqa: F401  (registers its answers with doc_for)

_ALERTS: dict[str, tuple[str, Tone]] = {
    "proposal": ("Trade proposal", "info"),
    "fill": ("Order filled", "good"),
    "halt": ("Trading halted", "bad"),
    "guard_breach": ("Guard breach", "warn"),
    "error": ("Error", "bad"),
    "reconciliation": ("Reconciliation", "warn"),
    "outage": ("Channel outage", "warn"),
    "exit": ("Position closed", "info"),
}


# --- signals, subscriptions, help ---

@doc_for.register
def signals_doc(signals: Signals) -> Doc:
    if not signals.items:
        return Doc("No BUY or SELL signals yet.")
    lines = []
    for s in signals.items:
        seen = f", seen {s.seen} times since {when(s.first_seen)}" if s.seen > 1 else ""
        lines.append(line(bold(f"{s.symbol} {_DIRECTION[s.direction]}"),
                          f"  {_chance(s.probability)}, as of {when(s.as_of)}{seen}  ", _codes(s.reason_codes)))
        lines.append(line(s.evidence))
    return Doc("Recent signals", (section(None, *lines),))


def strong_signal_doc(s: SignalView) -> Doc:
    return Doc(f"Strong signal: {s.symbol} {_DIRECTION[s.direction]}", (section(None,
        line(f"{_chance(s.probability)}, as of {when(s.as_of)}  ", _codes(s.reason_codes)), line(s.evidence)),))


@doc_for.register
def subscription_doc(sub: SubscriptionView) -> Doc:
    alerts = "on" if sub.immediate_alerts else "off"
    sound = ("Silent: they arrive without a sound (/subscribe sound turns it back on)." if sub.silent
             else "They arrive with a sound (/subscribe silent mutes them).")
    return Doc("Subscribed", (section(None,
        line(f"The digest comes daily at {sub.digest_time} ({sub.timezone})."),
        line(f"Immediate alerts for strong signals: {alerts}."),
        line(sound),
        line("/unsubscribe stops both.")),), "good")


# --- the watchlist and the chart ---

_CLASSES = {"crypto": "Coins", "us_equity": "US stocks", "etf": "ETFs"}


def _watched_lines(view: WatchlistView) -> list[Section]:
    groups: dict[str, list[Line]] = {}
    for asset in view.assets:
        origin = "" if asset.origin == "TB_UNIVERSE" else f" ({asset.origin})"
        groups.setdefault(_CLASSES.get(asset.asset_class, "Not in the catalogue"), []).append(
            line(bold(asset.symbol), f" {asset.name}", italic(origin) if origin else ""))
    return [section(title, *lines) for title, lines in groups.items()]


@doc_for.register
def watchlist_doc(view: WatchlistView) -> Doc:
    count = len(view.assets)
    footer = section(None, line("Operators change it with /watch SYMBOL and /unwatch SYMBOL; the next cycle reads it."))
    return Doc(f"Watchlist: {count} asset{'s' if count != 1 else ''}", (*_watched_lines(view), footer))


@doc_for.register
def watch_result_doc(result: WatchResult) -> Doc:
    if result.changed:
        title, tone = "Done", "good"
    elif result.ok:
        title, tone = "Nothing to change", "info"
    else:
        title, tone = f"Not done ({result.code})", "bad"
    symbols = ", ".join(result.watchlist.symbols)
    return Doc(title, (section(None, *text_lines(result.message)), section(None, line(f"Watchlist now: {symbols}."))),
               "good" if tone == "good" else "bad" if tone == "bad" else "info")


@doc_for.register
def chart_doc(chart: ChartImage) -> Doc:
    """The words under the picture (the picture itself travels beside this document)."""
    return Doc(f"{chart.symbol}: the tape and the story", (section(None, *text_lines(chart.caption)),))


@doc_for.register
def chart_refused_doc(refused: ChartRefused) -> Doc:
    return Doc("No chart", (section(None, line(refused.message[:1].upper() + refused.message[1:] + (
        "" if refused.message.endswith((".", "?")) else "."))),), "bad")


@doc_for.register
def unsubscribed_doc(result: Unsubscribed) -> Doc:
    if result.was_subscribed:
        return Doc("Unsubscribed: no more digests or immediate alerts in this chat.")
    return Doc("This chat was not subscribed.")


def help_doc(commands: Help, prefix: str = "/") -> Doc:
    lines = [line(bold(c.usage(prefix)), f"  {c.summary}") for c in commands.commands]
    return Doc("Commands you may use", (section(None, *lines),))


doc_for.register(Help, help_doc)


@doc_for.register
def intro_doc(intro: Intro) -> Doc:
    return info_doc("Tracer Bullet", f"You are known here as {intro.role.value}.",
                    "Digests, signals and trade proposals come to this chat. /help lists your commands.")


# --- pushed messages and plain notices ---

def alert_doc(alert: Alert) -> Doc:
    title, tone = _ALERTS.get(alert.kind, (alert.kind.replace("_", " ").capitalize() or "Alert", "info"))
    return Doc(title, (Section(None, text_lines(alert.text)),), tone)


def refusal_doc(user_id: int | None, show_id: bool) -> Doc:
    if not show_id or user_id is None:
        return Doc("Sorry, you are not allowed to do that.", tone="bad")
    return Doc("Sorry, this bot is private.", (section(None, line(
        f"Your Telegram user id is {user_id}. An operator can add it to TB_TELEGRAM_OPERATORS "
        "or TB_TELEGRAM_SUBSCRIBERS.")),), "bad")


def store_wait_doc(doc: Doc, command: str, seconds: float, applied: bool) -> Doc:
    """An answer that waited for a busy store, with a last line saying so."""
    note = f"Your {command} waited {seconds:.0f} s for the store" + ("; it is applied." if applied else ".")
    return Doc(doc.title, doc.sections + (section(None, line(italic(note))),), doc.tone)


def problem_doc(message: str) -> Doc:
    """Bad input or a failure, in words: what went wrong and what to do."""
    return Doc("Could not do that", (section(None, *text_lines(message)),), "bad")


def weekly_doc(summary: WeeklySummary) -> Doc:
    """The evaluation summary (eval/weekly.py); its picture goes as a separate photo message."""
    sections = tuple(section(s.title, *(line(t) for t in s.lines)) for s in summary.sections)
    return Doc(summary.title, sections)


def info_doc(title: str, *lines: str) -> Doc:
    return Doc(title, (section(None, *(line(t) for t in lines)),) if lines else ())


doc_for.register(WeeklySummary, weekly_doc)


# --- exits and the everyday trade reports (trading/exits.py, trading/trade_reports.py) ---

