"""Start and supervise Lantern's processes: Redis (if needed), Rasa, actions, gateway, NLG, console,
sweeper and workers. A child that stops is restarted with backoff; Ctrl-C or SIGTERM stops all."""

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

from bot.core.database import Database
from bot.core.settings import ROOT, SETTING_NAMES, Settings
from bot.tools.supervisor import Supervisor, stop_on_signals

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
ACTIONS_SETTINGS = (STORE_SETTINGS | {"LOCALES_DIR", "INTENTS_DIR", "RESOURCES_DIR", "SANIC_HOST", "DATABASE_URL"}
                    | set(QUIET_RASA))


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
    started_at: float = 0.0

    def start(self, echo: bool) -> None:
        """Start the process and a thread that prefixes (and keeps) its output."""
        self.started_at = time.monotonic()
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

    def exit_code(self) -> int | None:
        """Return the exit code once the process has stopped, else None."""
        return None if self.process is None else self.process.poll()

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


def web_child(role: str, bind: str, env: dict[str, str], threads: int, workers: int = 1) -> Child:
    """Describe one gunicorn process serving a role of the app (gateway, nlg or console)."""
    argv = [str(VENV_BIN / "gunicorn"), "--worker-class", "gthread", "--workers", str(workers),
            "--threads", str(threads), "--bind", bind, "--timeout", "30", "--graceful-timeout", "10",
            "--name", f"lantern-{role}", "bot.app:create_app()"]
    return Child(role, argv, {**env, "LANTERN_ROLE": role})


def lantern_child(name: str, command: str, env: dict[str, str]) -> Child:
    """Describe a `lantern` command run as a child (sweeper, worker)."""
    return Child(name, [sys.executable, "-m", "bot.tools.cli", command], env)


def has_command(name: str) -> bool:
    """Say whether this checkout's `lantern` command has a subcommand."""
    from bot.tools.cli import COMMANDS

    return name in COMMANDS


@dataclass(frozen=True)
class Addresses:
    """Where `make run` binds each web process (loopback unless GATEWAY_BIND says otherwise)."""

    gateway: str
    nlg: str
    console: str

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Addresses:
        """Read GATEWAY_BIND, NLG_BIND and CONSOLE_BIND (defaults :5000, :5001, :5002 on loopback)."""
        return cls(env.get("GATEWAY_BIND", "127.0.0.1:5000"), env.get("NLG_BIND", "127.0.0.1:5001"),
                   env.get("CONSOLE_BIND", "127.0.0.1:5002"))


def local_url(bind: str) -> str:
    """Return the loopback URL of a bind address (0.0.0.0 is reached at 127.0.0.1)."""
    host, _, port = bind.rpartition(":")
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '', '[::]') else host}:{port}"


def stack_children(env: dict[str, str], settings: Settings, model: Path, places: Addresses) -> list[Child]:
    """Describe every process but Redis: Rasa server(s), actions, gateway, NLG, console, sweeper, workers."""
    full_env = rasa_env(env, settings.redis_url, f"{local_url(places.nlg)}/nlg",
                        env.get("ACTIONS_URL", "http://127.0.0.1:5055"))
    rasa_ports = [5005 + index for index in range(int(env.get("RASA_PROCESSES", "1")))]
    full_env["RASA_URLS"] = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    children = rasa_children(full_env, model, rasa_ports, 5055, full_env["RASA_TOKEN"])
    lantern_env = only(full_env, SETTING_NAMES | {"DATABASE_URL"})
    streams = settings.console_streams_per_process
    children += [
        web_child("gateway", places.gateway, lantern_env, 32, int(env.get("GATEWAY_WORKERS", "1"))),
        web_child("nlg", places.nlg, lantern_env, 16),
        web_child("console", places.console, lantern_env, streams + 8),  # pages keep 8 threads
        lantern_child("sweeper", "sweeper", lantern_env),
    ]
    if has_command("worker"):
        workers = int(env.get("WORKER_PROCESSES", "1"))
        children += [lantern_child(f"worker{index or ''}", "worker", lantern_env) for index in range(workers)]
    return children


def redis_child(env: dict[str, str], redis_url: str) -> Child | None:
    """Describe a redis-server for this session when nothing answers at REDIS_URL (None when one does)."""
    if redis_answers(redis_url):
        return None
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit(f"Nothing answers at REDIS_URL={redis_url} and redis-server is not installed.\n"
                         "Install it (Debian/Ubuntu: sudo apt-get install redis-server) or point REDIS_URL at a "
                         "server.")
    port = str(urlparse(redis_url).port or 6379)
    print(f"Starting redis-server on port {port} for this session (nothing kept on disk)...")
    return Child("redis", [server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                 only(env, set()))


def banner(places: Addresses) -> str:
    """Return what `make run` prints once Lantern is up."""
    gateway, console, nlg = local_url(places.gateway), local_url(places.console), local_url(places.nlg)
    return (f"\nLantern is up.\n"
            f"  Gateway (Twilio webhook):        {gateway}/webhooks/twilio   health: {gateway}/healthz\n"
            f"  Staff console:                   {console}/staff/ (create an account: make staff-user)\n"
            f"  Rasa's NLG callback (loopback):  {nlg}/nlg\n"
            "  Text the bot from a terminal:    make chat\n"
            "  Connect a real number:           see README.md, 'Connecting Twilio'\n"
            "A process that stops is restarted. Press Ctrl-C to stop everything.")


def main(argv: list[str] | None = None) -> int:
    """Run everything under one supervisor until Ctrl-C (`make run`)."""
    env = dict(os.environ)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = Settings.from_env(env)  # refuses default secrets when PUBLIC_URL is https
    places = Addresses.from_env(env)
    redis = redis_child(env, settings.redis_url)
    Database(settings.database_url).upgrade()  # once, before the processes that use it start
    model = latest_model()
    children = ([redis] if redis else []) + stack_children(env, settings, model, places)
    stopping = threading.Event()
    stop_on_signals(stopping)
    supervisor = Supervisor(children)
    health = f"{local_url(places.gateway)}/healthz"
    deadline, announced = time.monotonic() + 240, False

    def announce() -> None:
        """Print the URLs once the gateway is healthy (or say it is not, once, after 4 minutes)."""
        nonlocal announced, deadline
        if announced:
            return
        try:
            announced = requests.get(health, timeout=2).ok
        except requests.RequestException:
            announced = False
        if announced:
            print(banner(places), flush=True)
        elif time.monotonic() > deadline:
            print("Lantern is not healthy yet; see the logs above (still supervising).", flush=True)
            deadline = float("inf")

    try:
        supervisor.start_all()
        print(f"Loading the model {model.name} (Rasa takes 20-60 s to start)...", flush=True)
        supervisor.run(stopping, every_round=announce)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        print("Stopping every process...", flush=True)
        supervisor.stop_all()


if __name__ == "__main__":
    sys.exit(main())
