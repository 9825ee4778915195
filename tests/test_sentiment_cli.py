"""`tracer_bullet.py sentiment`: the DESIGN.md contract and the input real users paste into it."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tracer_bullet
from tests.conftest import REPO

KEYS = {"text", "label", "positive", "negative", "neutral"}
# Real headlines (embedded feeds) and the kind of lines a pasted file brings along.
LINES = [
    "Bitcoin Plunges Below $90K as AI Worries Drag Nasdaq, Crypto Stocks Down",
    "",
    "   ",
    "日本銀行は金融政策決定会合で政策金利の据え置きを決めた",
    "Moody’s proposes stablecoin ratings framework focused on reserve quality 🚀",
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn",
    "tab\tinside and a \"quoted\" word \\ backslash",
    "Edited Transcript of ABEO earnings conference call " * 5000,
]


def _run_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, data: bytes,
                    *args: str) -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = tracer_bullet.main(["sentiment", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def _assert_rows(rows: list[dict], texts: list[str]) -> None:
    assert [r["text"] for r in rows] == texts
    for row in rows:
        assert set(row) == KEYS and row["label"] in ("positive", "negative", "neutral")
        assert abs(row["positive"] + row["negative"] + row["neutral"] - 1) < 1e-6
        assert row["label"] == max(("positive", "negative", "neutral"), key=row.__getitem__)


def test_one_object_per_line_in_order_whatever_the_line(monkeypatch, capsys) -> None:
    code, rows, err = _run_in_process(monkeypatch, capsys, ("\n".join(LINES) + "\n").encode(), "--backend", "embedded")
    assert code == 0, err
    _assert_rows(rows, LINES)
    for blank in rows[1:3]:
        assert (blank["label"], blank["neutral"]) == ("neutral", 1.0)
    assert rows[5]["label"] == "positive"


def test_windows_line_ends_a_byte_order_mark_and_no_final_newline(monkeypatch, capsys) -> None:
    data = "\ufeffNet sales decreased by 5%\r\nShares rose 3% in Helsinki\r\nlast line".encode()
    code, rows, _ = _run_in_process(monkeypatch, capsys, data, "--backend", "embedded")
    assert code == 0
    _assert_rows(rows, ["Net sales decreased by 5%", "Shares rose 3% in Helsinki", "last line"])


def test_empty_input_is_empty_output(monkeypatch, capsys) -> None:
    assert _run_in_process(monkeypatch, capsys, b"", "--backend", "embedded")[:2] == (0, [])


def test_input_that_is_not_utf8_names_the_line(monkeypatch, capsys) -> None:
    data = b"Bitcoin rallies\nShares slump\nbad \xff\xfe byte\nnever read\n"
    code, rows, err = _run_in_process(monkeypatch, capsys, data, "--backend", "embedded")
    assert code == 1
    assert [r["text"] for r in rows] == ["Bitcoin rallies", "Shares slump"]  # what came before is out
    assert "line 3 of the input is not valid UTF-8" in err and "Traceback" not in err


def test_inputs_longer_than_one_chunk_keep_their_order(monkeypatch, capsys) -> None:
    import cli.sentiment

    monkeypatch.setattr(cli.sentiment, "CHUNK_LINES", 4)  # the order across chunk borders, cheaply
    texts = [f"headline number {i} {'up' if i % 2 else 'down'}" for i in range(4 * 2 + 3)]
    code, rows, _ = _run_in_process(monkeypatch, capsys, "\n".join(texts).encode(), "--backend", "embedded")
    assert code == 0 and [r["text"] for r in rows] == texts


def _cli(*args: str, stdin: bytes, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env}
    return subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "sentiment", *args], input=stdin,
                          capture_output=True, cwd=tmp_path, env=environ, timeout=300)


def test_finbert_without_weights_is_a_clear_error_and_exit_code(tmp_path: Path) -> None:
    result = _cli("--backend", "finbert", stdin=b"Shares rose\n", tmp_path=tmp_path, TB_FINBERT_MODEL="/nonexistent/finbert")
    assert result.returncode == 1 and result.stdout == b""
    err = result.stderr.decode()
    assert "cannot load FinBERT model '/nonexistent/finbert': no such directory" in err
    assert "Traceback" not in err


def test_utf8_out_whatever_the_locale(tmp_path: Path) -> None:
    text = "Ärzte in Zürich: Société Générale 日本 🚀"
    result = _cli("--backend", "embedded", stdin=(text + "\n").encode(), tmp_path=tmp_path, LC_ALL="C", LANG="C",
                  PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["text"] == text


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    many = tmp_path / "many.txt"  # a file, not a pipe we feed: the child must be free to block on its output
    # Lines without words skip the encoder, so the output outgrows the pipe quickly.
    many.write_bytes(b"Bitcoin rallies to a record\n" + b"!!!\n" * 60000)
    with many.open("rb") as source:
        process = subprocess.Popen([sys.executable, str(REPO / "tracer_bullet.py"), "sentiment", "--backend", "embedded"],
                                   stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                                   env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
        assert process.stdout is not None and process.stderr is not None
        assert json.loads(process.stdout.readline())["label"] == "positive"
        process.stdout.close()  # like `| head -1`
        assert process.wait(timeout=300) == 0
        assert b"Traceback" not in process.stderr.read()
