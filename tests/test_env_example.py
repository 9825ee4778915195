""".env.example lists every setting with a description, and is exactly what config.py generates."""
from __future__ import annotations

import re
import subprocess
import sys

from cli.env_example import render_env_example, undocumented
from config import Settings, load_settings
from tests.conftest import REPO

EXAMPLE = REPO / ".env.example"


def test_the_file_is_what_config_py_generates() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == render_env_example(), (
        "regenerate it: .venv/bin/python tracer_bullet.py env-example > .env.example")


def test_every_setting_is_listed_once_with_a_description() -> None:
    assert undocumented() == [], "add a `# why` comment above the field in config.py"
    text = EXAMPLE.read_text(encoding="utf-8")
    listed = re.findall(r"^# ((?:TB_)?[A-Z_]+)=", text, flags=re.MULTILINE)
    expected = ["ANTHROPIC_API_KEY" if n == "anthropic_api_key" else f"TB_{n.upper()}" for n in Settings.model_fields]
    assert listed == expected
    for block in text.split("\n\n")[1:]:
        lines = [line for line in block.strip().splitlines() if not line.startswith("# ===")]
        if lines:
            assert len(lines) >= 2 and lines[0].startswith("# ") and len(lines[0]) > 6, block


def test_the_defaults_shown_are_the_defaults(tmp_path, monkeypatch) -> None:
    """Uncommenting every line of the example as it is changes nothing."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for name, value in re.findall(r"^# ((?:TB_)?[A-Z_]+)=(.*)$", text, flags=re.MULTILINE):
        if value:
            monkeypatch.setenv(name, value)
    assert load_settings() == Settings()


def test_the_command_prints_it() -> None:
    done = subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "env-example"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}, timeout=60)
    assert done.returncode == 0 and done.stdout == render_env_example()
