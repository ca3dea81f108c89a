"""Start and supervise Lantern's processes: Redis (if needed), Rasa, actions, gateway."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests
from redis import Redis
from redis.exceptions import RedisError

from bot.core.settings import ROOT, SETTING_NAMES

VENV_BIN = Path(sys.executable).parent
# Every child gets the process basics and only the settings it needs: no Twilio, staff or API
# secrets reach Rasa's processes, and Rasa's own token and URLs are all they get besides Redis.
PROCESS_BASICS = frozenset({"PATH", "HOME", "USER", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
                            "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"})
QUIET_RASA = {"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
STORE_SETTINGS = frozenset({"REDIS_URL", "REDIS_KEY_PREFIX", "RASA_KEY_PREFIX", "RETENTION_SECONDS",
                            "DEDUPE_SECONDS", "LOG_LEVEL"})
RASA_SETTINGS = STORE_SETTINGS | {"ENCRYPTION_KEYS", "SECRET_KEY", "SENDER_HASH_KEY", "NLG_URL", "ACTIONS_URL",
                                  "RASA_TOKEN"} | set(QUIET_RASA)
ACTIONS_SETTINGS = STORE_SETTINGS | {"LOCALES_DIR", "INTENTS_DIR", "RESOURCES_DIR", "SANIC_HOST"} | set(QUIET_RASA)


def only(env: dict[str, str], names: frozenset[str] | set[str]) -> dict[str, str]:
    """Return the process basics and the named variables of an environment."""
    return {name: value for name, value in env.items() if name in PROCESS_BASICS or name in names}


@dataclass
class Child:
    """One supervised process whose output lines are prefixed with its name."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)

    def start(self, echo: bool) -> None:
        """Start the process and a thread that prefixes (and keeps) its output."""
        self.process = subprocess.Popen(
            list(self.argv), env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(echo,), daemon=True).start()

    def _pump(self, echo: bool) -> None:
        """Copy the child's output, prefixed with its name."""
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.lines.append(line)
            del self.lines[:-200]
            if echo:
                sys.stdout.write(f"{self.name:>8} | {line}")
                sys.stdout.flush()

    def stop(self, grace: float = 10.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after a grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_answers(url: str) -> bool:
    """Say whether a Redis server answers at a URL."""
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def rasa_env(base: dict[str, str], redis_url: str, nlg_url: str, actions_url: str) -> dict[str, str]:
    """Add what Rasa's processes read to an environment: REDIS_URL (the tracker and lock stores
    take it, RASA_KEY_PREFIX, RETENTION_SECONDS and the keys from Lantern's settings) and the NLG
    and actions URLs endpoints.yml names. rasa_children passes each process only its part."""
    env = dict(base)
    env.update(
        REDIS_URL=redis_url,
        NLG_URL=nlg_url,
        ACTIONS_URL=actions_url,
        RASA_TOKEN=env.get("RASA_TOKEN", "dev-rasa-token-change-me"),
        **QUIET_RASA,
    )
    return env


def rasa_children(env: dict[str, str], model: Path, rasa_ports: list[int], actions_port: int,
                  token: str) -> list[Child]:
    """Describe the Rasa server process(es) and the action server process, both on loopback only,
    each with only the settings it needs."""
    rasa = str(VENV_BIN / "rasa")
    servers = [
        Child(f"rasa{index or ''}", [rasa, "run", "--enable-api", "--auth-token", token, "-i", "127.0.0.1",
                                   "-p", str(port), "--endpoints", "endpoints.yml", "--credentials",
                                   "credentials.yml", "-m", str(model), "--log-file", os.devnull],
              only(env, RASA_SETTINGS))
        for index, port in enumerate(rasa_ports)
    ]
    # `rasa run actions` has no host option; rasa_sdk binds to SANIC_HOST (default 0.0.0.0).
    actions_env = only({**env, "SANIC_HOST": "127.0.0.1"}, ACTIONS_SETTINGS)
    return servers + [Child("actions", [rasa, "run", "actions", "--actions", "bot.dialogue.actions", "-p",
                                        str(actions_port)], actions_env)]


def wait_until(check: object, timeout: float, children: Sequence[Child] = ()) -> bool:
    """Poll a zero-argument check until it is true, a child dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.process and c.process.poll() is not None for c in children):
            return False
        try:
            if check():  # type: ignore[operator]
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def latest_model() -> Path:
    """Return the newest trained model in models/."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in models/: run `make train`.")
    return models[-1]


def main(argv: list[str] | None = None) -> int:
    """Run everything under one supervisor until Ctrl-C (`make run`)."""
    env = dict(os.environ)
    redis_url = env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    bind = env.get("GATEWAY_BIND", "127.0.0.1:5000")
    gateway_url = f"http://{bind}"
    children: list[Child] = []
    if not redis_answers(redis_url):
        server = shutil.which("redis-server")
        if not server:
            print(f"Nothing answers at REDIS_URL={redis_url} and redis-server is not installed.\n"
                  "Install it (Debian/Ubuntu: sudo apt-get install redis-server) or point REDIS_URL at a server.")
            return 1
        port = str(urlparse(redis_url).port or 6379)
        print(f"Starting redis-server on port {port} for this session (nothing kept on disk)...")
        children.append(Child("redis", [server, "--port", port, "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no"], only(env, set())))
    model = latest_model()
    token = env.get("RASA_TOKEN", "dev-rasa-token-change-me")
    full_env = rasa_env(env, redis_url, f"{gateway_url}/nlg", env.get("ACTIONS_URL", "http://127.0.0.1:5055"))
    rasa_ports = [5005 + index for index in range(int(env.get("RASA_PROCESSES", "1")))]
    full_env["RASA_URLS"] = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    children += rasa_children(full_env, model, rasa_ports, 5055, token)
    workers = env.get("GATEWAY_WORKERS", "1")
    lantern_env = only(full_env, SETTING_NAMES)
    children.append(Child("gateway", [str(VENV_BIN / "gunicorn"), "--workers", workers, "--threads", "32",
                                      "--bind", bind, "--timeout", "30", "bot.app:create_app()"], lantern_env))
    children.append(Child("sweeper", [sys.executable, "-m", "bot.tools.cli", "sweeper"], lantern_env))
    stopping = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, even when started in the background
        signal.signal(stop_signal, lambda *_: stopping.set())
    try:
        for child in children:
            child.start(echo=True)
        print(f"Loading the model {model.name} (Rasa takes 20-60 s to start)...")
        healthy = wait_until(
            lambda: stopping.is_set() or requests.get(f"{gateway_url}/healthz", timeout=2).ok, 240, children
        )
        if stopping.is_set():
            return 0
        if not healthy:
            print("Lantern did not become healthy; see the logs above.")
            return 1
        print(f"\nLantern is up at {gateway_url} (health: {gateway_url}/healthz).\n"
              "  Text the bot from a terminal:   make chat\n"
              "  Staff console:                   "
              f"{gateway_url}/staff/ (create an account: make staff-user)\n"
              "  Connect a real number:          see README.md, 'Connecting Twilio'\n"
              "Press Ctrl-C to stop everything.")
        while not stopping.is_set():
            if any(c.process and c.process.poll() is not None for c in children):
                print("A process stopped; shutting everything down.")
                return 1
            stopping.wait(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.stop()


if __name__ == "__main__":
    sys.exit(main())
