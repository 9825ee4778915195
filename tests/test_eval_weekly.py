"""The weekly summary from a real store, and its job on a real APScheduler scheduler."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from PIL import Image

from config import ConfigError, load_settings
from eval.schedule import JOB_ID, add_weekly_job, publish_weekly, weekly_trigger
from eval.pipeline import store_bars
from eval.weekly import WeeklySummary, build_weekly_summary, week_key
from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.eval_models import OutcomeRow
from tests.conftest import utc
from tests.eval_fixtures import store_filled_trade, store_signal

NOW = utc(2025, 12, 15, 8)  # Monday morning after the embedded snapshot's week
MARKET = EmbeddedMarketData()  # read once: every test resolves against the same real tapes


def seed_week(sessions, count: int) -> list[int]:
    """Calls on the real BTC and ETH tapes every 8 hours from 1 December; the last one still open at NOW."""
    ids = []
    for n in range(count):
        as_of = NOW - timedelta(hours=8 * (count - n))
        ids.append(store_signal(sessions, ("BTC", "ETH")[n % 2], as_of, ("BUY", "SELL", "HOLD")[n % 3],
                                None if n % 3 == 2 else 0.56 + 0.01 * (n % 4), sources=("CoinDesk", "Decrypt")))
    return ids


def test_the_summary_reports_the_week_and_everything_so_far(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    ids = seed_week(sessions, 45)
    store_filled_trade(sessions, ids[0], "BTC", [("buy", 0.01, 86_000.0, 0.2), ("sell", 0.01, 87_000.0, 0.2)], NOW)
    summary = build_weekly_summary(sessions, MARKET, NOW, tmp_path / "runs")
    text = summary.text
    assert summary.key == "weekly-eval:2025-W51" and summary.title == "Weekly evaluation"
    assert "Week of 08 Dec to 15 Dec 2025" in text and "Since the first signal" in text
    assert "Brier" in text and "the base rate" in text and "news alone" in text
    assert "1 approved trade filled, 1 closed, 1 of those in profit; realised P&L +9.60 after fees." in text
    assert "still inside the horizon" in text  # the last calls have not resolved at NOW
    # The picture and the numbers come from an evaluation run on disk.
    assert summary.artifacts is not None and (summary.artifacts / "metrics.json").exists()
    assert summary.photo == (summary.artifacts / "reliability.png").read_bytes()
    assert Image.open(summary.artifacts / "reliability.png").format == "PNG"
    with sessions() as session:
        stored = session.query(OutcomeRow).count()
    resolved = sum(1 for line in (summary.artifacts / "outcomes.csv").read_text().splitlines() if ",resolved," in line)
    assert stored == resolved > 0


def test_the_week_is_the_signals_own_when_the_wall_clock_is_far_ahead(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    seed_week(sessions, 45)
    later = NOW + timedelta(days=351)  # the embedded snapshot's signals, judged a year on
    summary = build_weekly_summary(sessions, MARKET, later, tmp_path / "runs")
    text = summary.text
    assert summary.key == week_key(later)  # one summary per wall-clock week still
    assert "the signals' latest week" in text and "No signal resolved this week." not in text
    assert "Week of 08 Dec to 15 Dec 2025, the signals' latest week" in text


def test_calibration_error_is_a_sentence_until_the_bins_hold_enough_calls(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    seed_week(sessions, 6)  # a handful of calls: one or two per probability band
    text = build_weekly_summary(sessions, MARKET, NOW, tmp_path / "runs").text
    assert "Too few resolved calls to measure calibration yet" in text and "Calibration error" not in text


def test_a_quiet_store_says_there_is_nothing_to_judge(database_url: str, tmp_path: Path) -> None:
    summary = build_weekly_summary(open_store(database_url), MARKET, NOW, tmp_path)
    assert "No signal resolved this week." in summary.text
    assert "No signal has resolved yet" in summary.text
    assert "No approved trade has filled yet." in summary.text
    assert summary.photo is not None and summary.photo.startswith(b"\x89PNG")


def test_a_few_signals_are_called_too_few(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    seed_week(sessions, 9)
    text = build_weekly_summary(sessions, MARKET, NOW, tmp_path).text
    assert "too few to judge the probabilities" in text


def test_the_default_schedule_is_monday_morning_and_it_is_configurable() -> None:
    wednesday = utc(2025, 12, 10, 12)
    assert weekly_trigger(load_settings()).get_next_fire_time(None, wednesday) == utc(2025, 12, 15, 8)
    berlin = load_settings(weekly_eval_day="fri", weekly_eval_time="07:30", weekly_eval_timezone="Europe/Berlin")
    fire = weekly_trigger(berlin).get_next_fire_time(None, wednesday)
    assert fire.astimezone(timezone.utc) == utc(2025, 12, 12, 6, 30)  # 07:30 in Berlin is 06:30 UTC in winter


@pytest.mark.parametrize("variable, value, message", [
    ("TB_WEEKLY_EVAL_DAY", "monday", "TB_WEEKLY_EVAL_DAY"),
    ("TB_WEEKLY_EVAL_TIME", "8am", "TB_WEEKLY_EVAL_TIME"),
    ("TB_WEEKLY_EVAL_TIMEZONE", "Mars/Olympus", "IANA timezone"),
])
def test_a_bad_schedule_setting_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                        message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_the_job_runs_on_a_real_scheduler_and_hands_the_summary_to_the_sender(database_url: str, tmp_path: Path) -> None:
    sessions = open_store(database_url)
    seed_week(sessions, 12)
    sent: list[WeeklySummary] = []
    settings = load_settings(database_url=database_url, eval_runs_dir=tmp_path / "runs")
    def produce(now: datetime) -> WeeklySummary:  # what serve schedules
        return build_weekly_summary(sessions, store_bars(settings.bars_dir), now, settings.eval_runs_dir)


    async def scenario() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        job = add_weekly_job(scheduler, settings, produce, sent.append, lambda: NOW)
        scheduler.start()
        try:
            assert job.id == JOB_ID and scheduler.get_job(JOB_ID).next_run_time.weekday() == 0
            job.modify(next_run_time=datetime.now(timezone.utc))  # due now: the scheduler itself fires it
            for _ in range(200):
                if sent:
                    break
                await asyncio.sleep(0.05)
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(scenario())
    assert len(sent) == 1 and sent[0].key == week_key(NOW) and sent[0].photo is not None
    assert str(sent[0]) == sent[0].text and sent[0].artifacts is not None
    assert sent[0].artifacts.parent == tmp_path / "runs"


def test_a_failed_evaluation_reaches_the_sender_as_a_sentence() -> None:
    received: list[WeeklySummary] = []

    def broken(now: datetime) -> WeeklySummary:
        raise OSError("disk full")

    async def send(summary: WeeklySummary) -> None:  # an async sender is awaited
        received.append(summary)

    summary = asyncio.run(publish_weekly(broken, send, lambda: NOW))
    assert received == [summary] and summary.photo is None
    assert "The weekly evaluation could not be made: OSError: disk full" in summary.text
