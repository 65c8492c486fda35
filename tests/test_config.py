"""Configuration layers, validation, and the README table kept in step with the code."""

import re
from pathlib import Path

import pytest

from verify import settings as config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_layers_defaults_then_environment_then_overrides():
    settings = config.load({"VERIFY_BRAND": "甲", "VERIFY_SESSION_TTL": "600", "REDIS_URL": "redis://x"},
                           {"VERIFY_SESSION_TTL": 300})
    assert settings.brand == "甲"
    assert settings.redis_url == "redis://x"
    assert settings.session_ttl == 300
    assert settings.default_region == "CN"


def test_booleans_and_numbers_are_converted():
    settings = config.load({"VERIFY_ALLOW_UNSAFE_REDIS": "1", "VERIFY_REDIS_TIMEOUT": "0.5"})
    assert settings.allow_unsafe_redis is True and settings.redis_timeout == 0.5


@pytest.mark.parametrize(
    "environ",
    [{"VERIFY_ENV": "staging"}, {"VERIFY_REDIS_TIMEOUT": "1"}, {"VERIFY_SESSION_TTL": "abc"}, {"VERIFY_SESSION_TTL_MAX": "7200"},
     {"VERIFY_MAX_FAILURES": "20"}, {"VERIFY_LOCKOUT_SECONDS": "60"}],
)
def test_bad_values_are_refused(environ):
    with pytest.raises(config.ConfigError):
        config.load(environ)


def test_a_code_cannot_be_guessed_with_better_odds_than_1_in_10000():
    settings = config.load({})
    assert config.guesses_per_session(settings) == 40  # 5 wrong codes x 4 windows of 15 min x 2 kinds


def test_settings_are_typed_and_frozen():
    import dataclasses

    settings = config.load({})
    assert isinstance(settings, config.Settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.brand = "x"


def test_production_needs_secrets(tmp_path):
    from verify import create_app

    with pytest.raises(config.ConfigError, match="VERIFY_SECRET_KEY"):
        create_app({"VERIFY_ENV": "production", "REDIS_URL": "redis://127.0.0.1:1/0", "VERIFY_INSTANCE_PATH": str(tmp_path)})


def test_readme_table_lists_every_setting_with_its_default():
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([A-Z_]+)` \| (.*?) \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    assert set(rows) == set(config.SETTINGS)
    for name, (default, _kind, _doc) in config.SETTINGS.items():
        shown = "(unset)" if default is None else f"`{0 if default is False else default}`"
        assert rows[name] == shown, name


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "Asia/"])
def test_an_unknown_time_zone_is_a_clear_error(zone):
    from verify.settings import ConfigError, load

    with pytest.raises(ConfigError, match="VERIFY_TIMEZONE"):
        load({"VERIFY_TIMEZONE": zone})
