"""Production settings refuse to start with DEBUG on or an insecure secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SETUP = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()"
GOOD_KEY = "x7Qp2vLm9sT4wZ8rB1nC6yH3kJ5dF0gA"  # 32 characters
CONFIG_VARIABLES = {"KEHU_ENV", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}


def start_django(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return subprocess.run(  # noqa: S603 - our own interpreter with a fixed script
        [sys.executable, "-c", SETUP],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_debug_on():
    """Given KEHU_ENV=production and DEBUG=1, when Django starts, then it stops with a message to set
    DEBUG=0."""
    result = start_django(KEHU_ENV="production", DEBUG="1", SECRET_KEY=GOOD_KEY)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Refusing to start in production with DEBUG on" in result.stderr


@pytest.mark.parametrize("key", [None, "kehu-insecure-development-key-change-me", "short-key"])
def test_production_refuses_the_default_or_a_short_secret_key(key):
    """Given production with DEBUG off but no, the default or a short SECRET_KEY, when Django starts, then it
    stops and says the key must be a random string of at least 32 characters."""
    env = {"KEHU_ENV": "production", "DEBUG": "0"}
    if key is not None:
        env["SECRET_KEY"] = key

    result = start_django(**env)

    assert result.returncode != 0
    assert "default or a short SECRET_KEY" in result.stderr


def test_production_starts_with_a_proper_key_and_debug_off():
    """Given production with DEBUG=0 and a 32-character random key, when Django starts, then it starts
    cleanly."""
    result = start_django(KEHU_ENV="production", DEBUG="0", SECRET_KEY=GOOD_KEY)

    assert result.returncode == 0, result.stderr


def test_an_unknown_environment_name_is_refused():
    """Given KEHU_ENV set to a typo, when Django starts, then it refuses rather than guessing."""
    result = start_django(KEHU_ENV="prod", DEBUG="0", SECRET_KEY=GOOD_KEY)

    assert result.returncode != 0
    assert "KEHU_ENV must be 'development' or 'production'" in result.stderr
