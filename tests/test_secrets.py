"""Fresh secrets in .env on first run; a real deployment (https PUBLIC_URL) refuses weak ones."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.core.settings import SECRET_SETTINGS, Settings, SettingsError, read_dotenv
from bot.tools.dotenv_secrets import write_fresh_dotenv

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "PUBLIC_URL": "https://help.example.org",
    "SECRET_KEY": "s" * 40, "SENDER_HASH_KEY": "h" * 40, "RASA_TOKEN": "r" * 40, "STAFF_API_TOKEN": "t" * 40,
    "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}
DEFAULTS = {name: str(getattr(Settings(), name.lower())) for name in SECRET_SETTINGS}

# (setting, bad value, why) -> Settings.validate names the setting.
REFUSED = [(name, DEFAULTS[name], "default") for name in SECRET_SETTINGS if DEFAULTS[name]]
REFUSED += [(name, "", "missing") for name in SECRET_SETTINGS]
REFUSED += [(name, "x" * 31, "short") for name in SECRET_SETTINGS]
REFUSED += [("ENCRYPTION_KEYS", "", "empty: the vault would derive its key from SECRET_KEY"),
            ("ENCRYPTION_KEYS", "not-a-fernet-key", "not a Fernet key"),
            ("SENDER_HASH_KEY", "s" * 40, "the same as SECRET_KEY"),
            ("SECRET_KEY", GOOD["ENCRYPTION_KEYS"], "the same as the encryption key")]


def test_a_fresh_dotenv_has_strong_distinct_secrets_mode_0600_and_is_never_overwritten(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    assert write_fresh_dotenv(dotenv)
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    values = read_dotenv(dotenv)
    generated = ["SECRET_KEY", "SENDER_HASH_KEY", "ENCRYPTION_KEYS", "RASA_TOKEN", "STAFF_API_TOKEN"]
    assert sorted(values) == sorted(generated), "Twilio's token is left for the operator to paste"
    assert "# TWILIO_AUTH_TOKEN=" in dotenv.read_text()
    assert len(set(values.values())) == len(values) and all(len(v) >= 32 for v in values.values())
    Fernet(values["ENCRYPTION_KEYS"].encode())  # the key format bot/core/identity.py expects
    Settings.from_env({**values, "PUBLIC_URL": "https://help.example.org",
                       "TWILIO_AUTH_TOKEN": GOOD["TWILIO_AUTH_TOKEN"]})  # good enough for a real deployment
    other = tmp_path / "other" / ".env"
    other.parent.mkdir()
    write_fresh_dotenv(other)
    assert not set(read_dotenv(other).values()) & set(values.values()), "every installation gets its own"
    dotenv.write_text("SECRET_KEY=mine\n")
    assert not write_fresh_dotenv(dotenv) and dotenv.read_text() == "SECRET_KEY=mine\n"


@pytest.mark.parametrize(("name", "value", "why"), REFUSED, ids=[f"{r[0]} {r[2]}" for r in REFUSED])
def test_https_settings_refuse_a_weak_secret_naming_it(name: str, value: str, why: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**GOOD, name: value})


def test_development_keeps_working_with_the_defaults() -> None:
    settings = Settings.from_env({"PUBLIC_URL": "http://127.0.0.1:5000"})
    assert settings.secret_key.endswith("change-me") and settings.encryption_keys == ()


def refused_at_startup(argv: list[str], name: str, value: str) -> tuple[int, str]:
    """Start a process entry point with one weak secret; return its exit code and output."""
    env = {**{k: v for k, v in os.environ.items() if k not in GOOD}, **GOOD, name: value,
           "REDIS_URL": "redis://127.0.0.1:6379/6", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("name", [*SECRET_SETTINGS, "ENCRYPTION_KEYS"])
def test_the_sweeper_refuses_to_start_with_a_default_secret_naming_it(name: str) -> None:
    code, output = refused_at_startup([sys.executable, "-m", "bot.tools.cli", "sweeper"], name,
                                      DEFAULTS.get(name, ""))
    assert code != 0 and name in output
    assert GOOD["SENDER_HASH_KEY"] not in output and GOOD["ENCRYPTION_KEYS"] not in output, "no secret printed"


def test_the_gateway_refuses_to_start_with_a_default_secret_naming_it() -> None:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    code, output = refused_at_startup([gunicorn, "--bind", "127.0.0.1:0", "bot.app:create_app()"],
                                      "SECRET_KEY", DEFAULTS["SECRET_KEY"])
    assert code != 0 and "SECRET_KEY" in output


def test_the_worker_refuses_to_start_with_a_default_secret_naming_it() -> None:
    from bot.tools.cli import COMMANDS

    if "worker" not in COMMANDS:
        pytest.skip("the RQ worker command is not in this checkout yet")
    code, output = refused_at_startup([sys.executable, "-m", "bot.tools.cli", "worker"], "RASA_TOKEN",
                                      DEFAULTS["RASA_TOKEN"])
    assert code != 0 and "RASA_TOKEN" in output
