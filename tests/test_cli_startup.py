"""Commands load only what they use: `--help` and `status` stay clear of the model, chat and migration libraries,
and the live-trading banner still comes first for every command. Real processes, like a shell user's."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import LIVE_TRADING_PHRASE
from storage.migrate import _alembic_head, _declared_head, head_revision
from tests.conftest import REPO

# Runs tracer_bullet.py as __main__ in this process, then reports which top-level packages it imported.
PROBE = """
import json, runpy, sys
sys.path.insert(0, sys.argv[1])
sys.argv = [sys.argv[1] + "/tracer_bullet.py", *sys.argv[2:]]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    code = exc.code
print("PROBE " + json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}), file=sys.stderr)
"""
# Loaded only by commands that score headlines, chat, trade with Alpaca or migrate the store.
NEVER_AT_START = {"torch", "transformers", "tokenizers", "huggingface_hub", "telegram", "discord", "alpaca",
                  "anthropic", "feedparser", "matplotlib", "alembic"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TB_")}
    return env | {"TB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "HF_HUB_OFFLINE": "1"} | extra


def _probe(tmp_path: Path, *args: str, **env: str) -> tuple[int, set[str], subprocess.CompletedProcess[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(REPO), *args], env=_env(tmp_path, **env), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    found = json.loads(line[len("PROBE "):])
    return found["code"], set(found["loaded"]), done


def test_help_lists_every_command_and_imports_no_store_model_or_numpy(tmp_path: Path) -> None:
    code, loaded, done = _probe(tmp_path, "--help")
    assert code == 0
    for command in ("run", "status", "eval", "replay", "approve", "sentiment", "serve", "bot", "health"):
        assert command in done.stdout
    assert loaded.isdisjoint(NEVER_AT_START | {"sqlalchemy", "numpy"}), loaded & (NEVER_AT_START | {"sqlalchemy", "numpy"})


def test_status_on_an_up_to_date_store_reads_it_without_alembic_numpy_or_models(tmp_path: Path) -> None:
    first, loaded_first, _ = _probe(tmp_path, "status")  # a new store: the migrations run, so alembic loads
    assert first == 0 and "alembic" in loaded_first
    code, loaded, done = _probe(tmp_path, "status", "--json")
    assert code == 0, done.stderr
    assert json.loads(done.stdout)["trading_state"] == "ACTIVE"
    assert loaded.isdisjoint(NEVER_AT_START | {"numpy"}), loaded & (NEVER_AT_START | {"numpy"})


@pytest.mark.parametrize("command", [["status"], ["proposals"], ["env-example"]])
def test_the_live_banner_comes_first_for_every_command(tmp_path: Path, command: list[str]) -> None:
    live = {"TB_ALPACA_KEY": "key", "TB_ALPACA_SECRET": "secret", "TB_LIVE_TRADING": "1",
            "TB_LIVE_TRADING_CONFIRM": LIVE_TRADING_PHRASE, "TB_ALPACA_TRADING_URL": "http://127.0.0.1:9",
            "TB_ALPACA_DATA_URL": "http://127.0.0.1:9"}
    code, _, done = _probe(tmp_path, *command, **live)
    assert code == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith("*** LIVE TRADING")


def test_a_store_error_is_still_one_clear_line_when_the_store_loads_lazily(tmp_path: Path) -> None:
    code, _, done = _probe(tmp_path, "status", TB_DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    assert code == 2 and "Traceback" not in done.stderr


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    assert _declared_head() == _alembic_head() == head_revision()
