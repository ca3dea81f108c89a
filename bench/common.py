"""Start the whole stack (gunicorn gateway, Rasa, actions) on free ports for a benchmark."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from redis import Redis

from bot.core.settings import SETTING_NAMES, Settings
from bot.tools.stack import VENV_BIN, Child, free_port, latest_model, only, rasa_children, rasa_env, wait_until

RESULTS = Path(__file__).parent / "results"
# Its own Redis database (LANTERN_BENCH_REDIS_DB, default 11): emptied before and after a run.
BENCH_REDIS_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('LANTERN_BENCH_REDIS_DB', '11'))}"


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    """Format median and p95 in milliseconds."""
    return f"median {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms"


@dataclass
class BenchStack:
    """A running stack for benchmarks."""

    settings: Settings
    gateway_url: str
    children: list[Child]


@contextmanager
def running_stack(rasa_processes: int = 1, gateway_workers: int = 1, **overrides: object) -> Iterator[BenchStack]:
    """Run gateway (gunicorn), Rasa server(s) and actions against Redis DB 12, then clean up."""
    gateway_port, actions_port = free_port(), free_port()
    scratch = tempfile.mkdtemp(prefix="lantern-bench-")
    rasa_ports = [free_port() for _ in range(rasa_processes)]
    values: dict[str, object] = dict(
        redis_url=BENCH_REDIS_URL, rasa_urls=tuple(f"http://127.0.0.1:{port}" for port in rasa_ports),
        actions_url=f"http://127.0.0.1:{actions_port}", public_url=f"http://127.0.0.1:{gateway_port}",
        twilio_auth_token="bench-token", rasa_token="bench-rasa-token", staff_api_token="bench-api",
        rate_limit_per_minute=100000, rate_limit_per_hour=100000, ip_rate_limit_per_minute=1000000,
        log_level="WARNING", database_url=f"sqlite:///{scratch}/lantern-bench.db",
    )
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    env = {**os.environ, **settings.as_env()}
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = rasa_env(env, BENCH_REDIS_URL, f"{gateway_url}/nlg", settings.actions_url)
    children = rasa_children(env, latest_model(), rasa_ports, actions_port, settings.rasa_token)
    children.append(Child("gateway", [str(VENV_BIN / "gunicorn"), "--workers", str(gateway_workers), "--threads", "32",
                                      "--bind", f"127.0.0.1:{gateway_port}", "bot.app:create_app()"],
                          only(env, SETTING_NAMES)))
    redis = Redis.from_url(BENCH_REDIS_URL)
    redis.flushdb()
    for child in children:
        child.start(echo=False)
    try:
        if not wait_until(lambda: requests.get(f"{gateway_url}/healthz", timeout=2).ok, 300, children):
            sys.exit("stack did not start:\n" + "".join("".join(c.lines[-20:]) for c in children))
        yield BenchStack(settings, gateway_url, children)
    finally:
        for child in children:
            child.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        redis.flushdb()


def write_result(name: str, text: str) -> Path:
    """Write a benchmark report to bench/results/ and echo it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(text, encoding="utf-8")
    print(text)
    return path
