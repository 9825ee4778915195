"""deploy/: what can be checked without a Docker engine or a running systemd. Every command, health check
and setting the Dockerfile, the compose file and the unit name exists in the CLI (the real parser) and in
Settings; the compose file parses (and passes `docker-compose config` where installed); the unit passes
`systemd-analyze verify` where installed; .dockerignore keeps local state and secrets out of the image."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from cli.main import build_parser
from config import ENV_PREFIX, Settings, load_settings
from pipeline.universe import check_universe
from serve.loop import FLUSH_SECONDS
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
PROGRAM = "tracer-bullet"
# Variables the files set that are not ours: Python's, pip's and the postgres image's.
FOREIGN = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK",
           "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def parses(argv: list[str]) -> None:
    """`argv` (program first) is a command the real parser accepts."""
    assert Path(argv[0]).name == PROGRAM, argv
    build_parser().parse_args(argv[1:])


def check_settings(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every TB_ name is a setting and the values pass its validation, as the process would see them."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for name in environment:
        assert name in known or name in FOREIGN, f"{name} is neither a setting nor a known outside variable"
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(DEPLOY)  # no .env here: only these variables count
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    load_settings(known_symbols=check_universe)


# --- docker-compose.yml ---

def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _interpolated(value: str, password: str = "s3cret") -> str:
    return re.sub(r"\$\{POSTGRES_PASSWORD(:\?[^}]*)?\}", password, value)


def test_compose_runs_serve_beside_postgres_and_restarts_both() -> None:
    compose = _compose()
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["restart"] == db["restart"] == "unless-stopped"
    assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["image"].startswith("postgres:")
    volume, target = db["volumes"][0].split(":")
    assert target == "/var/lib/postgresql/data" and volume in compose["volumes"]  # a named volume, not a bind mount
    assert app["env_file"] == "../.env"  # the repository's .env, next to .env.example
    assert app["stop_grace_period"] == "60s"  # > TB_SHUTDOWN_GRACE_SECONDS (30 s) + the outbox flush


def test_compose_commands_and_health_check_exist_in_the_cli() -> None:
    app = _compose()["services"]["app"]
    dockerfile = _dockerfile()
    entrypoint = _exec_form(dockerfile["ENTRYPOINT"][-1])
    parses(entrypoint + app["command"])
    test = app["healthcheck"]["test"]
    assert test[0] == "CMD"
    parses(test[1:])


def test_compose_points_the_store_at_the_db_service_through_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _compose()
    app, db = compose["services"]["app"], compose["services"]["db"]
    environment = {k: _interpolated(str(v)) for k, v in app["environment"].items()}
    url = make_url(environment["TB_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg" and url.host == "db" and url.port == 5432
    assert url.username == db["environment"]["POSTGRES_USER"] and url.database == db["environment"]["POSTGRES_DB"]
    assert url.password == "s3cret"  # the db's own password variable, interpolated from deploy/.env
    assert "${POSTGRES_PASSWORD" in db["environment"]["POSTGRES_PASSWORD"]
    check_settings(environment, monkeypatch)


def _compose_tool() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def test_compose_file_passes_the_compose_tool(tmp_path: Path) -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed (apt-get install docker-compose)")
    text = (DEPLOY / "docker-compose.yml").read_text()
    if tool == ["docker-compose"]:  # v1's schema predates the top-level project name
        text = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "docker-compose.yml").write_text(text)
    (tmp_path / "deploy" / ".env").write_text("POSTGRES_PASSWORD=s3cret\n")  # read by compose itself
    (tmp_path / ".env").write_text("TB_TELEGRAM_OPERATORS=42\n")  # the app's settings
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    done = subprocess.run([*tool, "-f", str(tmp_path / "deploy" / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]["app"]
    assert resolved["environment"]["TB_DATABASE_URL"] == "postgresql+psycopg://tracer:s3cret@db:5432/tracer_bullet"
    assert resolved["environment"]["TB_TELEGRAM_OPERATORS"] == "42"  # the app's settings come from .env


def test_compose_refuses_to_start_without_a_database_password(tmp_path: Path) -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    text = (DEPLOY / "docker-compose.yml").read_text()
    if tool == ["docker-compose"]:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "docker-compose.yml").write_text(text)
    (tmp_path / ".env").write_text("TB_TELEGRAM_OPERATORS=42\n")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    done = subprocess.run([*tool, "-f", str(tmp_path / "deploy" / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode != 0 and "set POSTGRES_PASSWORD in deploy/.env" in done.stderr


# --- Dockerfile ---

def _dockerfile() -> dict[str, list[str]]:
    """Instruction -> its arguments, in order (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    found: dict[str, list[str]] = {}
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def _exec_form(text: str) -> list[str]:
    import json

    value = json.loads(text)
    assert isinstance(value, list), f"{text} is not the exec form"
    return value


def test_the_image_is_slim_non_root_and_the_light_install() -> None:
    dockerfile = _dockerfile()
    assert all(base.split()[0].startswith("python:") and base.split()[0].endswith("-slim")
               for base in dockerfile["FROM"])
    assert dockerfile["USER"] == ["tracer"]
    installs = [run for run in dockerfile["RUN"] if "pip install" in run]
    assert installs and all(re.search(r"pip install \.(\s|$)", run) for run in installs)  # no extras: no torch
    assert not any(".env" in copy for copy in dockerfile.get("COPY", []))


def test_the_image_runs_serve_and_checks_health_with_real_commands() -> None:
    dockerfile = _dockerfile()
    entrypoint = _exec_form(dockerfile["ENTRYPOINT"][-1])
    parses(entrypoint + _exec_form(dockerfile["CMD"][-1]))
    health = dockerfile["HEALTHCHECK"][-1]
    options, _, command = health.partition(" CMD ")
    parses(_exec_form(command))
    assert "--timeout=30s" in options  # health asks the chat APIs, each within TB_CHAT_TIMEOUT_SECONDS
    assert dockerfile["STOPSIGNAL"] == ["SIGTERM"]


def test_the_image_settings_are_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {}
    for env in _dockerfile()["ENV"]:
        for pair in shlex.split(env):
            name, _, value = pair.partition("=")
            environment[name] = value
    assert make_url(environment["TB_DATABASE_URL"]).database == "/data/tracer_bullet.db"  # on the volume
    check_settings({k: v for k, v in environment.items() if k != "PATH"}, monkeypatch)


# --- the systemd unit ---

def _unit() -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in (DEPLOY / "tracer-bullet.service").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        assert current is not None, line
        key, _, value = line.partition("=")
        current.append((key, value))
    return sections


def _one(section: list[tuple[str, str]], key: str) -> str:
    values = [v for k, v in section if k == key]
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def test_the_unit_is_notify_with_a_watchdog_restarts_on_failure_and_runs_serve(monkeypatch) -> None:
    service = _unit()["Service"]
    assert _one(service, "Type") == "notify" and _one(service, "NotifyAccess") == "main"
    assert _one(service, "Restart") == "on-failure"
    assert int(_one(service, "WatchdogSec")) >= 30
    parses(shlex.split(_one(service, "ExecStart")))
    assert _one(service, "EnvironmentFile").endswith(".env")
    user = _one(service, "User")
    assert user not in ("root", "0") and _one(service, "Group") == user
    grace = Settings.model_fields["shutdown_grace_seconds"].default
    assert int(_one(service, "TimeoutStopSec")) > grace + FLUSH_SECONDS
    assert _one(service, "WorkingDirectory") == "/var/lib/" + _one(service, "StateDirectory")
    environment = dict(value.split("=", 1) for key, value in service if key == "Environment")
    assert environment == {"TB_LOG_FORMAT": "json"}
    check_settings(environment, monkeypatch)
    assert ("WantedBy", "multi-user.target") in _unit()["Install"]


def test_the_unit_is_hardened() -> None:
    service = dict(_unit()["Service"])
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                       "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes"}.items():
        assert service.get(key) == value, key


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify insists that ExecStart's program exists: point it at this checkout's, the rest as shipped.
    program = Path(shutil.which(PROGRAM) or REPO / ".venv" / "bin" / PROGRAM)
    if not program.exists():
        pytest.skip(f"no installed {PROGRAM} console script to stand in for /opt/tracer-bullet/.venv/bin/{PROGRAM}")
    text = (DEPLOY / "tracer-bullet.service").read_text()
    shipped = f"ExecStart=/opt/tracer-bullet/.venv/bin/{PROGRAM} serve"
    assert shipped in text
    unit = tmp_path / "tracer-bullet.service"
    unit.write_text(text.replace(shipped, f"ExecStart={program} serve"))
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and unparsable values too; it says so on stderr, so any output is a failure.
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr


# --- .dockerignore ---

def _pattern(text: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: relative to the context root, '*' within one path part,
    '**' across any number of them; a pattern that names a directory excludes everything under it."""
    text = text.strip().strip("/")
    out, i = "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def sent_to_docker(path: str, lines: list[str]) -> bool:
    excluded = False
    for line in lines:
        negate = line.startswith("!")
        if _pattern(line[1:] if negate else line).fullmatch(path):
            excluded = not negate
    return not excluded


def _ignore_lines() -> list[str]:
    text = (REPO / ".dockerignore").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("path", [
    ".venv/bin/python", "venv/lib/x.py", ".env", ".env.local", "tracer_bullet.db", "data/tracer_bullet.db",
    "data/store.db-wal",
    "artifacts/run-1.json", "eval_runs/20260101T000000Z/metrics.json", "runs/spy/signals.csv", "chart-ETH.png",
    ".git/HEAD", "cli/__pycache__/main.cpython-312.pyc", ".pytest_cache/v/x", ".hypothesis/examples/a",
    "tracer_bullet.egg-info/PKG-INFO", "serve.log", "tests/test_deploy.py", ".cache/huggingface/model.bin",
])
def test_dockerignore_keeps_local_state_and_secrets_out(path: str) -> None:
    assert not sent_to_docker(path, _ignore_lines())


def test_dockerignore_sends_everything_the_install_needs() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    packages = ("cli/", "serve/", "bot/", "service/", "pipeline/", "eval/", "trading/", "providers/", "storage/",
                "intelligence/")
    needed = [p for p in tracked if p.startswith(packages) or p in (
        "pyproject.toml", "README.md", "tracer_bullet.py", "config.py", "redaction.py", "alembic.ini")]
    assert any(p.startswith("providers/embedded/") for p in needed)
    lines = _ignore_lines()
    assert [p for p in needed if not sent_to_docker(p, lines)] == []
