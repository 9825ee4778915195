"""Every numeric setting is finite and within range at start, whatever it is (issue 13, finding 4).

`TB_MAX_DATA_AGE_MINUTES=inf` used to pass validation (inf is > 0) and end `approve` and `run` in
an OverflowError traceback. The rule is generic (config.check_number over every field), so the
property test walks every numeric field of Settings rather than a list of known culprits.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import types
import typing
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from config import DURATION_UNITS, MAX_DURATION_DAYS, ConfigError, Settings, load_settings
from tests.conftest import REPO


def _numeric_fields() -> list[str]:
    found = []
    for name, field in Settings.model_fields.items():
        origin = typing.get_origin(field.annotation)
        if origin not in (None, typing.Union, types.UnionType):  # list[int] and the like are not one number
            continue
        kinds = set(typing.get_args(field.annotation)) or {field.annotation}
        if kinds & {int, float} and bool not in kinds:
            found.append(name)
    return found


NUMERIC = _numeric_fields()
UNITS = {"_seconds": "seconds", "_minutes": "minutes", "_hours": "hours", "_days": "days"}


def test_the_settings_have_the_numeric_fields_the_finding_named() -> None:
    assert {"max_data_age_minutes", "symbol_cooldown_minutes", "half_life_hours", "narrative_window_hours",
            "sim_equity", "horizon_hours"} <= set(NUMERIC)


@hsettings(max_examples=300, deadline=None)
@given(field=st.sampled_from(NUMERIC), value=st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "Infinity", "1e309", "1e308", "1e13", str(2**31), str(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
))
def test_a_numeric_setting_is_refused_by_name_or_usable_in_date_arithmetic(field: str, value: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TB_" + field.upper(), value)
        try:
            loaded = load_settings()
        except ConfigError as exc:
            assert f"TB_{field.upper()}:" in str(exc)
            return
    number = getattr(loaded, field)
    assert math.isfinite(number) and abs(number) <= 1e12
    for suffix, unit in UNITS.items():
        if field.endswith(suffix):  # what the code does with a duration: a timedelta added to a date
            span = timedelta(**{unit: number})
            now = datetime.now(timezone.utc)
            assert now - span < now + span or span == timedelta(0)
            assert abs(span) <= timedelta(days=MAX_DURATION_DAYS)


@pytest.mark.parametrize("field", [f for f in NUMERIC if f.endswith(tuple(DURATION_UNITS))])
def test_every_duration_refuses_infinity_and_a_span_past_any_date(monkeypatch: pytest.MonkeyPatch, field: str) -> None:
    for value in ("inf", "nan", "1e300"):
        monkeypatch.setenv("TB_" + field.upper(), value)
        with pytest.raises(ConfigError, match=f"TB_{field.upper()}: "):
            load_settings()


@pytest.mark.parametrize("variable, command", [
    ("TB_MAX_DATA_AGE_MINUTES", ["approve", "1"]),
    ("TB_SYMBOL_COOLDOWN_MINUTES", ["approve", "1"]),
    ("TB_HALF_LIFE_HOURS", ["run", "--once"]),
    ("TB_NARRATIVE_WINDOW_HOURS", ["run", "--once"]),
])
def test_the_command_line_exits_2_naming_the_variable(tmp_path, variable: str, command: list[str]) -> None:
    env = {**os.environ, variable: "inf", "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'tb.db'}",
           "TB_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "TB_SENTIMENT_BACKEND": "embedded"}
    done = subprocess.run([sys.executable, "tracer_bullet.py", *command], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "finite" in done.stderr and "Traceback" not in done.stderr
