"""Lantern's multi-process shape on one machine, with a private Redis, for the soak and fault tests.

`running_processes()` starts a private `redis-server` (nothing on disk, so a restart empties it),
N gunicorn gateways exactly as `lantern run` starts one, M Rasa servers, the action server, the
sweeper and, once the code has it (`bot/handoff/jobs.py`), one RQ worker. The harness, not a
supervisor, kills and restarts processes: `Processes.kill()` and `Processes.restart()`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from bot.core.settings import ROOT, SETTING_NAMES, Settings
from bot.tools.stack import VENV_BIN, Child, free_port, latest_model, only, rasa_children, rasa_env, wait_until

WORKER_MODULE = ROOT / "bot" / "handoff" / "jobs.py"
# Settings that exist only once the database lands; passed through so they reach the gateway then.
FUTURE_SETTINGS = frozenset({"DATABASE_URL"})


PROBLEM = re.compile(r"ERROR|CRITICAL|Traceback|WORKER TIMEOUT|Booting worker|\"level\": \"(error|warning)\"")


class LogTally(list):  # type: ignore[type-arg]
    """A child's kept output lines that also counts every problem line of the whole run."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        super().__init__(lines)
        self.problems: Counter[str] = Counter()

    def append(self, line: str) -> None:
        """Keep a line; count it when it reports a problem (timestamps removed)."""
        super().append(line)
        if PROBLEM.search(line):
            self.problems[re.sub(r'"ts": [\d.]+, |^\[[^]]*\] |^\S+ \S+ (?=ERROR)', "", line.strip())[:200]] += 1


def redis_child(port: int, folder: Path) -> Child:
    """Describe a private redis-server on loopback that keeps nothing on disk."""
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)")
    return Child("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", str(folder)], only(dict(os.environ), set()))


def gateway_child(index: int, port: int, env: dict[str, str], workers: int = 1) -> Child:
    """Describe one gunicorn gateway, started as `lantern run` starts it."""
    return Child(f"gateway{index}", [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", "32",
                                     "--bind", f"127.0.0.1:{port}", "--timeout", "30", "bot.app:create_app()"],
                 only(env, SETTING_NAMES | FUTURE_SETTINGS))


def worker_children(env: dict[str, str], count: int = 1) -> list[Child]:
    """Describe RQ worker processes when the code has them (none before `bot/handoff/jobs.py`)."""
    if not WORKER_MODULE.exists():
        return []
    return [Child(f"worker{index}", [sys.executable, "-m", "bot.tools.cli", "worker"],
                  only(env, SETTING_NAMES | FUTURE_SETTINGS)) for index in range(count)]


def fresh_secrets() -> dict[str, object]:
    """Return freshly generated secrets (no default secret reaches a process)."""
    return dict(secret_key=secrets.token_urlsafe(32), sender_hash_key=secrets.token_urlsafe(32),
                encryption_keys=(Fernet.generate_key().decode(),), twilio_auth_token=secrets.token_hex(16),
                rasa_token=secrets.token_urlsafe(24), staff_api_token=secrets.token_urlsafe(24))


def rss_kb(pid: int) -> int:
    """Return a process's resident memory in kB from /proc (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """Return the direct children of a process (gunicorn's workers of its master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*") if Path(f"/proc/{pid}").exists() else []:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class Processes:
    """The running processes, their addresses and settings; kill and restart any of them."""

    settings: Settings
    gateway_urls: list[str]
    redis_port: int
    children: list[Child]
    database_url: str
    restarts: list[str] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        """Return the private Redis URL."""
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def child(self, name: str) -> Child:
        """Return a process by name (redis, gateway0, rasa, rasa1, actions, sweeper, worker0)."""
        return next(c for c in self.children if c.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL a process group at once (a crash, not a shutdown)."""
        child = self.child(name)
        if child.process and child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()

    def restart(self, name: str, timeout: float = 180) -> float:
        """Start a stopped process again on the same port; return seconds until it answers."""
        child = self.child(name)
        started = time.monotonic()
        child.start(echo=False)
        self.restarts.append(name)
        if not wait_until(lambda: self.answers(name), timeout, [child]):
            raise RuntimeError(f"{name} did not come back:\n{''.join(child.lines[-20:])}")
        return time.monotonic() - started

    def answers(self, name: str) -> bool:
        """Say whether a process answers on its port (Redis: PING; Rasa: a loaded model)."""
        if name == "redis":
            from bot.tools.stack import redis_answers

            return redis_answers(self.redis_url)
        if name.startswith("rasa"):
            url = self.settings.rasa_urls[int(name[4:] or 0)]
            status = requests.get(f"{url}/status", params={"token": self.settings.rasa_token}, timeout=2)
            return status.ok and bool(status.json().get("model_id"))
        if name.startswith("gateway"):
            return requests.get(f"{self.gateway_urls[int(name[7:])]}/healthz", timeout=2).status_code in (200, 503)
        return True

    def memory(self) -> dict[str, dict[str, int]]:
        """Return each process's RSS in kB: the main process and its children (gunicorn workers)."""
        sizes: dict[str, dict[str, int]] = {}
        for child in self.children:
            if not child.process or child.process.poll() is not None:
                sizes[child.name] = {"main": 0, "children": 0, "count": 0}
                continue
            kids = child_pids(child.process.pid)
            sizes[child.name] = {"main": rss_kb(child.process.pid), "children": sum(rss_kb(p) for p in kids),
                                 "count": 1 + len(kids)}
        return sizes

    def problems(self) -> dict[str, Counter[str]]:
        """Return each process's problem log lines of the whole run, counted."""
        return {c.name: c.lines.problems for c in self.children if isinstance(c.lines, LogTally)}

    def dead(self) -> list[str]:
        """Name the processes that have exited."""
        return [c.name for c in self.children if c.process and c.process.poll() is not None]


def stack_settings(gateway_ports: list[int], rasa_ports: list[int], actions_port: int, redis_port: int,
                   **overrides: object) -> Settings:
    """Build the settings every process shares (PUBLIC_URL is the first gateway, as behind one proxy)."""
    values: dict[str, object] = dict(
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        rasa_urls=tuple(f"http://127.0.0.1:{port}" for port in rasa_ports),
        actions_url=f"http://127.0.0.1:{actions_port}", public_url=f"http://127.0.0.1:{gateway_ports[0]}",
        rate_limit_per_minute=100000, rate_limit_per_hour=100000, ip_rate_limit_per_minute=10_000_000,
        log_level="WARNING", **fresh_secrets(),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def running_processes(gateways: int = 2, rasa_servers: int = 2, workers: int = 1, gateway_workers: int = 1,
                      nlg_process: bool = False, **overrides: object) -> Iterator[Processes]:
    """Run a private Redis, N gateways, M Rasa servers, actions, the sweeper and workers; stop them after.

    Rasa's NLG callback goes to the first gateway, or with `nlg_process` to one more gunicorn
    gateway that only serves those callbacks (no webhook reaches it)."""
    gateway_ports = [free_port() for _ in range(gateways + nlg_process)]
    rasa_ports = [free_port() for _ in range(rasa_servers)]
    actions_port, redis_port = free_port(), free_port()
    settings = stack_settings(gateway_ports, rasa_ports, actions_port, redis_port, **overrides)
    gateway_urls = [f"http://127.0.0.1:{port}" for port in gateway_ports]
    nlg_url = f"{gateway_urls.pop()}/nlg" if nlg_process else f"{gateway_urls[0]}/nlg"
    with tempfile.TemporaryDirectory(prefix="lantern-soak-") as folder:
        database_url = f"sqlite:///{folder}/lantern.db"
        settings = dataclasses.replace(settings, database_url=database_url)  # the harness reads cases there too
        env = {**os.environ, **settings.as_env()}
        env = rasa_env(env, settings.redis_url, nlg_url, settings.actions_url)
        children = [redis_child(redis_port, Path(folder))]
        children += rasa_children(env, latest_model(), rasa_ports, actions_port, settings.rasa_token)
        children += [gateway_child(i, port, env, gateway_workers) for i, port in enumerate(gateway_ports)]
        if nlg_process:
            children[-1].name = "nlg"
        children.append(Child("sweeper", [sys.executable, "-m", "bot.tools.cli", "sweeper"],
                              only(env, SETTING_NAMES | FUTURE_SETTINGS)))
        children += worker_children(env, workers)
        procs = Processes(settings, gateway_urls, redis_port, children, database_url)
        for child in children:
            child.lines = LogTally()
            child.start(echo=False)
        try:
            healthy = lambda: all(requests.get(f"{url}/healthz", timeout=2).ok for url in gateway_urls)  # noqa: E731
            if not wait_until(healthy, 300, children):
                raise RuntimeError("the processes did not become healthy:\n"
                                   + "".join(f"--- {c.name}\n" + "".join(c.lines[-15:]) for c in children))
            yield procs
        finally:
            for child in reversed(children):
                child.stop()
