"""The multi-process shape on one machine: gateway, NLG and console as `make run` starts them.

Each process is gunicorn with the supervisor's own command line (bot/tools/stack.py web_child) on a
free port, sharing Redis database LANTERN_TEST_REDIS_DB; a small local stand-in plays Rasa."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import requests
from redis import Redis
from twilio.request_validator import RequestValidator

from bot.tools.stack import Child, free_port, web_child
from tests.conftest import AUTH_TOKEN, TEST_REDIS_URL, TwilioHarness, new_number, replies
from tests.twilio_api import json_reply

pytestmark = pytest.mark.stack
PUBLIC = "http://lantern.test"
STAFF_TOKEN = "process-test-staff-token"


class RasaStandIn(BaseHTTPRequestHandler):
    """Answer like Rasa's REST channel and health routes; count each message received."""

    received: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Say the server (or the action server) is up."""
        self.answer(200, {"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802
        """Answer one message with the main menu."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RasaStandIn.received.append((body["sender"], body["message"]))
        self.answer(200, [{"text": "Main menu", "custom": {"lantern": {"response": "utter_main_menu"}}}])

    def answer(self, status: int, body: object) -> None:
        """Send a JSON answer."""
        json_reply(self, status, body)

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture(scope="module")
def rasa_url() -> Iterator[str]:
    """A Rasa stand-in on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), RasaStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def lantern_env(rasa_url: str, **extra: str) -> dict[str, str]:
    """The environment `make run` gives Lantern's web processes, on the test Redis database."""
    basics = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")}
    return {**basics, "PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "REDIS_URL": TEST_REDIS_URL,
            "RASA_URLS": rasa_url, "ACTIONS_URL": rasa_url, "STAFF_API_TOKEN": STAFF_TOKEN,
            "LOG_LEVEL": "WARNING", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **extra}


def start(children: list[Child]) -> list[str]:
    """Start web processes and wait until each answers /healthz; return their URLs."""
    urls = [f"http://{child.argv[child.argv.index('--bind') + 1]}" for child in children]
    for child in children:
        child.start(echo=False)
    deadline = time.monotonic() + 60
    for child, url in zip(children, urls, strict=True):
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or child.exit_code() is not None:
                pytest.fail(f"{child.name} did not start:\n{''.join(child.lines[-30:])}")
            time.sleep(0.3)
    return urls


def signed_post(url: str, form: dict[str, str]) -> requests.Response:
    """Post a webhook form signed the way Twilio signs it (for PUBLIC_URL)."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}/webhooks/twilio", form)
    return requests.post(f"{url}/webhooks/twilio", data=urlencode(form), timeout=15,
                         headers={"X-Twilio-Signature": signature,
                                  "Content-Type": "application/x-www-form-urlencoded"})


def test_a_twilio_retry_to_the_other_gateway_gets_no_duplicate_reply(rasa_url: str, redis_db: Redis) -> None:
    """Two gateways share Redis: the retry of a MessageSid answered by one gets an empty answer from
    the other, and Rasa sees the message once."""
    env = lantern_env(rasa_url)
    gateways = [web_child("gateway", f"127.0.0.1:{free_port()}", env, 8) for _ in range(2)]
    try:
        first, second = start(gateways)
        sender = new_number()
        for text in ("1", "Hello there, what can you do for me?"):
            form = TwilioHarness.form(sender, text)
            answered = signed_post(first, form)
            assert answered.status_code == 200 and replies(answered.text)
            seen = list(RasaStandIn.received)
            retried = signed_post(second, form)
            assert retried.status_code == 200 and replies(retried.text) == [], "the retry was answered again"
            assert RasaStandIn.received == seen, "the retry reached Rasa"
    finally:
        for child in gateways:
            child.stop()


def test_open_live_update_streams_never_slow_the_gateway(rasa_url: str, redis_db: Redis) -> None:
    """With 40 open event streams on the console process, the gateway's /healthz and a signed
    webhook answer at once, console pages still answer, and a stream over the cap is told to retry."""
    streams = 40
    env = lantern_env(rasa_url, CONSOLE_STREAMS_PER_PROCESS=str(streams))
    username, password = f"sup-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    subprocess.run([sys.executable, "-m", "bot.tools.cli", "staff-user", "create", username, "--role", "supervisor"],
                   env={**env, "STAFF_PASSWORD": password}, check=True, capture_output=True, timeout=60)
    gateway = web_child("gateway", f"127.0.0.1:{free_port()}", env, 32)
    console = web_child("console", f"127.0.0.1:{free_port()}", env, streams + 8)
    opened: list[requests.Response] = []
    try:
        gateway_url, console_url = start([gateway, console])
        login = requests.Session()
        assert login.post(f"{console_url}/staff/login", data={"username": username, "password": password},
                          allow_redirects=False, timeout=30).status_code == 302
        for _ in range(streams):
            stream = requests.get(f"{console_url}/staff/events", cookies=login.cookies, stream=True, timeout=10)
            assert stream.status_code == 200 and next(stream.iter_lines()).startswith(b"retry: 2000")
            opened.append(stream)
        for _ in range(3):
            started = time.monotonic()
            assert requests.get(f"{gateway_url}/healthz", timeout=5).status_code == 200
            answered = signed_post(gateway_url, TwilioHarness.form(new_number(), "1"))
            assert answered.status_code == 200 and replies(answered.text)
            assert time.monotonic() - started < 2.0, "the gateway waited behind live updates"
        started = time.monotonic()
        assert login.get(f"{console_url}/staff/", timeout=5).status_code == 200, "console pages keep threads"
        over = requests.get(f"{console_url}/staff/events", cookies=login.cookies, timeout=5)
        assert over.status_code == 200 and over.text.startswith("retry: ") and "event:" not in over.text
        assert time.monotonic() - started < 2.0
        assert requests.get(f"{gateway_url}/staff/", timeout=5).status_code == 404, "the gateway serves no console"
        assert requests.post(f"{console_url}/webhooks/twilio", timeout=5).status_code == 404
    finally:
        for stream in opened:
            stream.close()
        for child in (gateway, console):
            child.stop()
