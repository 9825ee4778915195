"""Feed credentials never reach the store or an error message (issue 13, finding 2).

A feed URL may carry a user and password or a token in its query. The store keeps the feed's
validators under the URL without them (plus a slow hash), a restart still finds them, a store
written before kept them in the clear and is re-keyed on open, and a malformed TB_FEEDS is
reported without the URL's secrets.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from config import ConfigError, load_settings
from pipeline.cycle import run_once
from pipeline.data_sources import build_data_sources
from pipeline.provider_store import load_validators, validator_key
from providers.feeds import EMBEDDED_FEEDS_DIR
from providers.http_feeds import Validators
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.migrate import alembic_config
from tests.conftest import REPO, utc
from tests.feed_server import FeedServer, Route

NOW = utc(2025, 12, 13, 11, 0)
PASSWORD, TOKEN = "hunter2-Feed-Pass", "tok-Q9x-SECRET-77"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.routes["/coindesk"] = Route((EMBEDDED_FEEDS_DIR / "coindesk.rss").read_bytes(), etag='"cd-1"')
    server.routes["/block"] = Route((EMBEDDED_FEEDS_DIR / "theblock.rss").read_bytes(),
                                    last_modified="Sat, 13 Dec 2025 11:05:41 GMT")
    yield server
    server.stop()


def _secret_urls(server: FeedServer) -> dict[str, str]:
    host = server.url("")[len("http://"):]
    return {"CoinDesk": f"http://reader:{PASSWORD}@{host}/coindesk?token={TOKEN}&format=rss",
            "The Block": f"http://{host}/block?api_key={TOKEN}"}


def _everything_stored(url: str) -> str:
    """Every value of every row of every table, as text: where a secret would show if it were stored."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return "\n".join(str(tuple(row)) for table in inspect(connection).get_table_names()
                             for row in connection.execute(text(f'SELECT * FROM "{table}"')))
    finally:
        engine.dispose()


def test_a_live_cycle_stores_no_feed_credential_and_a_restart_still_finds_the_validators(feeds, database_url) -> None:
    settings = load_settings(database_url=database_url, news_sources="rss", feeds=_secret_urls(feeds),
                             sentiment_backend="embedded")
    backend = load_backend("embedded", "unused").backend
    for _ in range(2):  # the second is a restart: new sources, validators from the store
        sessions = open_store(database_url)
        sources = build_data_sources(settings, sessions, lambda: NOW)
        try:
            run_once(settings, sessions, backend, (), sources.market, NOW, sources)
        finally:
            sources.close()
    stored = _everything_stored(database_url)
    assert PASSWORD not in stored and TOKEN not in stored and "reader" not in stored
    assert "/coindesk?token=***&format=***#" in stored  # the feed is still recognisable to a person
    second = feeds.requests_to("/coindesk")[-1], feeds.requests_to("/block")[-1]
    assert second[0]["If-None-Match"] == '"cd-1"' and second[1]["If-Modified-Since"] == "Sat, 13 Dec 2025 11:05:41 GMT"


def test_two_feeds_differing_only_in_their_token_keep_their_own_validators(database_url) -> None:
    from pipeline.provider_store import save_validators

    one, two = "https://feeds.example/rss?token=first-TOKEN-1", "https://feeds.example/rss?token=second-TOKEN-2"
    assert validator_key(one) != validator_key(two)
    assert validator_key("https://feeds.example/rss") == "https://feeds.example/rss"  # nothing to hide: as before
    sessions = open_store(database_url)
    save_validators(sessions, {one: Validators('"a"', None), two: Validators('"b"', None)}, NOW)
    assert load_validators(open_store(database_url), [one, two, "https://other.example/"]) == {
        one: Validators('"a"', None), two: Validators('"b"', None)}


def test_a_store_written_before_is_re_keyed_on_open_and_keeps_its_validators(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    secret_url = f"https://reader:{PASSWORD}@feeds.example/rss?token={TOKEN}"
    engine = create_engine(url)
    with engine.begin() as connection:  # the store as the release before this one left it
        command.upgrade(alembic_config(connection), "0003")
        connection.execute(text("INSERT INTO feed_validators (url, etag, last_modified, updated_at) "
                                "VALUES (:u, '\"old\"', NULL, '2025-12-13 10:00:00')"), {"u": secret_url})
        connection.execute(text("INSERT INTO feed_validators (url, etag, last_modified, updated_at) "
                                "VALUES ('https://plain.example/rss', '\"p\"', NULL, '2025-12-13 10:00:00')"))
    engine.dispose()
    sessions = open_store(url)  # migrates to the newest revision
    stored = _everything_stored(url)
    assert PASSWORD not in stored and TOKEN not in stored
    assert load_validators(sessions, [secret_url, "https://plain.example/rss"]) == {
        secret_url: Validators('"old"', None), "https://plain.example/rss": Validators('"p"', None)}


MALFORMED = '{"Private": "https://reader:' + PASSWORD + '@feeds.example/rss?token=' + TOKEN + '"'  # no closing brace


@pytest.mark.parametrize("value", [MALFORMED, json.dumps({"Private": ["https://reader:" + PASSWORD + "@x.example/"]})])
def test_a_malformed_tb_feeds_is_named_without_its_secrets(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TB_FEEDS", value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "TB_FEEDS" in str(err.value)
    assert PASSWORD not in str(err.value) and TOKEN not in str(err.value)


def test_a_url_setting_with_a_password_is_masked_in_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_NEWS_SOURCES", "rss")
    monkeypatch.setenv("TB_FEEDS", json.dumps({"Private": 7}))  # a number where a URL belongs
    monkeypatch.setenv("TB_TELEGRAM_OPERATORS", f"https://reader:{PASSWORD}@oops.example/?token={TOKEN}")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "TB_TELEGRAM_OPERATORS" in message and "oops.example" in message
    assert PASSWORD not in message and TOKEN not in message


def test_the_command_line_says_it_in_one_line_without_the_password(tmp_path) -> None:
    env = {**os.environ, "TB_FEEDS": MALFORMED, "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'tb.db'}"}
    done = subprocess.run([sys.executable, "tracer_bullet.py", "status"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "TB_FEEDS" in done.stderr and "Traceback" not in done.stderr
    assert PASSWORD not in done.stderr + done.stdout and TOKEN not in done.stderr + done.stdout
