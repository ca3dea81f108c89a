"""Shared fixtures: the real stack (Redis, trained Rasa, action server, gateway) and a Twilio harness."""

from __future__ import annotations

import dataclasses
import os
import secrets
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, make_server

# Rasa's tracker-store module warns about SQLAlchemy 2.0 on import (tests import it directly).
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.app import create_app
from bot.conversation.people import PersonState
from bot.conversation.pipeline import handle_inbound
from bot.core.services import Services, build_services
from bot.core.settings import Settings
from bot.handoff.cases import Case
from bot.handoff.jobs import job_queue, running_with
from bot.tools.stack import VENV_BIN, Child, free_port, latest_model, rasa_children, rasa_env, wait_until
from tests.fakes import FakeRasa, RecordingOutbound
from tests.twilio_api import TwilioApiStandIn
from webhooks.base import InboundMessage

# Each suite has a Redis database of its own (override to run two checkouts side by side).
TEST_REDIS_DB = int(os.environ.get("LANTERN_TEST_REDIS_DB", "13"))
TEST_REDIS_URL = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
FAST_REDIS_DB = int(os.environ.get("LANTERN_FAST_REDIS_DB", "12"))
FAST_REDIS_URL = f"redis://127.0.0.1:6379/{FAST_REDIS_DB}"
# The tests' database: a SQLite file of this test run unless LANTERN_TEST_DATABASE_URL names another
# (the store tests also run on the PostgreSQL server, see tests/test_database.py).
TEST_DATABASE_URL = os.environ.get("LANTERN_TEST_DATABASE_URL") or (
    f"sqlite:///{tempfile.gettempdir()}/lantern-test-{os.getpid()}.db")
PUBLIC_URL = "https://lantern.example.org"
AUTH_TOKEN = "test-twilio-auth-token"
RASA_TOKEN = "test-rasa-token"
STAFF_API_TOKEN = "test-staff-api-token"
LANTERN_NUMBER = "+254700999000"
ONCALL_NUMBER = "+254799000111"


def make_settings(**overrides: object) -> Settings:
    """Return test settings (own Redis DB, fake credentials), with overrides."""
    values: dict[str, object] = dict(
        testing=True, public_url=PUBLIC_URL, twilio_auth_token=AUTH_TOKEN, redis_url=TEST_REDIS_URL,
        rasa_token=RASA_TOKEN, staff_api_token=STAFF_API_TOKEN, twilio_sms_from=LANTERN_NUMBER,
        twilio_whatsapp_from="+14155238886", secret_key="test-secret-key", sender_hash_key="test-hash-key",
        rasa_timeout_seconds=10.0, log_level="INFO", database_url=TEST_DATABASE_URL, job_retry_intervals=(0,),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Stack:
    """The running real stack used by end-to-end tests."""

    settings: Settings
    app: Flask
    gateway_url: str
    children: list[Child]
    twilio_api: TwilioApiStandIn
    env: dict[str, str]

    def child(self, name: str) -> Child:
        """Return a supervised child process by name."""
        return next(c for c in self.children if c.name == name)


def empty_database(svc: Services) -> None:
    """Delete every row of every table (the tests' own database only)."""
    from bot.core.database import metadata

    with svc.db.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def stored_entries(svc: Services, case_id: str, kind: str) -> list[str]:
    """Return a case's entries of one kind (turn, note, event) exactly as stored (encrypted)."""
    from sqlalchemy import select

    from bot.core.database import case_entries

    query = (select(case_entries.c.payload).where(case_entries.c.case_id == case_id, case_entries.c.kind == kind)
             .order_by(case_entries.c.id))
    with svc.db.connect() as connection:
        return list(connection.execute(query).scalars())


@pytest.fixture(scope="session", autouse=True)
def test_database() -> Iterator[str]:
    """The test run's database URL; a SQLite file made for this run is removed afterwards."""
    yield TEST_DATABASE_URL
    if not os.environ.get("LANTERN_TEST_DATABASE_URL"):
        for suffix in ("", "-wal", "-shm"):
            Path(TEST_DATABASE_URL.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def redis_db() -> Iterator[Redis]:
    """The real Redis at 127.0.0.1:6379, database 13 (ours alone), emptied before and after."""
    redis = Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    redis.flushdb()
    yield redis
    redis.flushdb()


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[TwilioApiStandIn]:
    """A local stand-in for Twilio's REST API, reached through twilio's own Client."""
    server = TwilioApiStandIn()
    yield server
    server.close()


def serve(app: Flask, port: int) -> BaseWSGIServer:
    """Serve an app on loopback in a background thread."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def stack(redis_db: Redis, twilio_api: TwilioApiStandIn) -> Iterator[Stack]:
    """Start the gateway, a Rasa server with the trained model and the action server."""
    gateway_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    settings = make_settings(
        rasa_urls=(f"http://127.0.0.1:{rasa_port}",), actions_url=f"http://127.0.0.1:{actions_port}",
        twilio_api_base_url=twilio_api.url, oncall_numbers=(ONCALL_NUMBER,),
    )
    app = create_app(settings)
    server = serve(app, gateway_port)
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = rasa_env({**os.environ, **settings.as_env()}, TEST_REDIS_URL, f"{gateway_url}/nlg",
                   settings.actions_url)
    children = rasa_children(env, latest_model(), [rasa_port], actions_port, RASA_TOKEN)
    children.append(worker_child(settings))
    for child in children:
        child.start(echo=False)
    try:
        up = wait_until(lambda: requests.get(f"{gateway_url}/healthz", timeout=2).ok, 300, children)
        if not up:
            logs = "".join("".join(c.lines[-30:]) for c in children)
            pytest.fail(f"the stack did not become healthy:\n{logs}")
        yield Stack(settings, app, gateway_url, children, twilio_api, env)
    finally:
        for child in children:
            child.stop()
        server.shutdown()


def worker_child(settings: Settings) -> Child:
    """Describe a real `lantern worker` process on the test settings (as `make run` starts it)."""
    # The test settings' secrets are short dev values: an https PUBLIC_URL (a real deployment) would make
    # the worker refuse them, and the worker never uses the public URL.
    return Child("worker", [str(VENV_BIN / "python"), "-m", "bot.tools.cli", "worker"],
                 {**os.environ, **settings.as_env(), "PUBLIC_URL": "http://127.0.0.1"})


class CountingWorker(SimpleWorker):
    """RQ's in-process worker, counting the jobs it runs."""

    ran = 0

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run one job and count it."""
        self.ran += 1
        super().execute_job(job, queue)


def run_jobs(svc: Services) -> int:
    """Run every queued job now with a real RQ worker in this process (burst), as `lantern worker`
    would; return how many jobs it ran (retries included)."""
    worker = CountingWorker([job_queue(svc)], connection=svc.job_redis)
    with running_with(svc):
        worker.work(burst=True, logging_level="WARNING")
    return worker.ran


def wait_for(check: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll a check until it is true (a queued job has run) or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def sent_to(stack: Stack, number: str, since: int = 0, count: int = 1, timeout: float = 20.0) -> list[dict[str, str]]:
    """Wait until the worker has sent `count` messages to a number (after index `since` of the Twilio
    stand-in's list), and return every message sent to it since."""
    def found() -> list[dict[str, str]]:
        return [m for m in stack.twilio_api.sent[since:] if m["To"] == number]

    wait_for(lambda: len(found()) >= count, timeout)
    return found()


@pytest.fixture
def client(stack: Stack) -> FlaskClient:
    """A test client of the gateway app that the running Rasa calls back for NLG."""
    return stack.app.test_client()


def new_number() -> str:
    """Return a fresh, unused Kenyan-style mobile number for one test."""
    return "+2547" + "".join(secrets.choice("0123456789") for _ in range(8))


class TwilioHarness:
    """Post webhook forms to the gateway signed exactly as Twilio signs them."""

    def __init__(self, client: FlaskClient, auth_token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL) -> None:
        self.client = client
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url

    def post_raw(self, body: str, path: str = "/webhooks/twilio", signature: str | None = None,
                 sign_url: str | None = None) -> object:
        """Post a literal form body; sign it unless a signature is given."""
        from urllib.parse import parse_qsl

        params = dict(parse_qsl(body, keep_blank_values=True))
        if signature is None:
            signature = self.validator.compute_signature(sign_url or self.public_url + path, params)
        return self.client.post(path, data=body, content_type="application/x-www-form-urlencoded",
                                headers={"X-Twilio-Signature": signature})

    def text(self, sender: str, body: str, whatsapp: bool = False, **extra: str) -> list[str]:
        """Send a text as a person and return the reply texts (asserting a 200 TwiML answer)."""
        response = self.post_raw(urlencode(self.form(sender, body, whatsapp, **extra)))
        assert response.status_code == 200, response.data  # type: ignore[attr-defined]
        return replies(response.data.decode())  # type: ignore[attr-defined]

    @staticmethod
    def form(sender: str, body: str, whatsapp: bool = False, **extra: str) -> dict[str, str]:
        """Build an inbound-message form like Twilio's."""
        prefix = "whatsapp:" if whatsapp else ""
        sid = "SM" + secrets.token_hex(16)
        form = {"ToCountry": "KE", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
                "Body": body, "To": prefix + LANTERN_NUMBER, "NumSegments": "1", "MessageSid": sid,
                "AccountSid": "AC" + "1" * 32, "From": prefix + sender, "ApiVersion": "2010-04-01"}
        form.update(extra)
        return form


def replies(twiml: str) -> list[str]:
    """Return the <Message> texts of a TwiML response."""
    return [m.text or "" for m in ET.fromstring(twiml).iter("Message")]


@pytest.fixture
def twilio(client: FlaskClient) -> TwilioHarness:
    """The signed-webhook harness bound to the live stack's gateway app."""
    return TwilioHarness(client)


ROOT = Path(__file__).resolve().parent.parent


def reply_languages(stack: Stack, text: str) -> set[str]:
    """Return the languages whose catalog renders exactly this reply (any response key, any channel)."""
    from bot.core.services import get_services
    from bot.language.messages import SOURCE
    from webhooks.twilio import sms_text

    with stack.app.app_context():
        svc = get_services()
        found = set()
        for code in svc.registry.codes:
            for key in SOURCE:
                rendered = svc.render(key, code)
                for form in (rendered, sms_text(rendered)):
                    if text == form or (key.startswith("resources_header") and text.startswith(form)):
                        found.add(code)
        return found


def content(reply: str) -> str:
    """Return a reply without the neutral greeting line discreet mode may put first."""
    first, _, rest = reply.partition("\n")
    return rest if rest and len(first.split()) == 1 and not any(ch.isdigit() for ch in first) else reply


class StaffBrowser:
    """A staff member using the console through a Flask test client (cookies, CSRF)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, username: str, password: str) -> int:
        """Log in; remember the CSRF token from the page."""
        response = self.client.post("/staff/login", data={"username": username, "password": password})
        if response.status_code == 302:
            self.refresh_csrf()
        return response.status_code

    def refresh_csrf(self) -> None:
        """Read the CSRF token from the queue page."""
        import re

        page = self.client.get("/staff/").data.decode()
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        self.csrf = match.group(1) if match else ""

    def post(self, path: str, **form: str) -> object:
        """Submit a console form with the CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf, **form})


def create_staff(stack: Stack, role: str = "staff") -> tuple[str, str]:
    """Create a staff account the way `make staff-user` does; return its credentials."""
    from bot.core.services import get_services
    from bot.staff.accounts import Accounts

    username, password = f"{role}-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    with stack.app.app_context():
        svc = get_services()
        Accounts(svc.db, svc.redis, svc.keys).create(username, password, role)
    return username, password


@pytest.fixture
def staff(stack: Stack) -> StaffBrowser:
    """A logged-in staff member."""
    browser = StaffBrowser(stack.app.test_client())
    assert browser.login(*create_staff(stack)) == 302
    return browser


@contextmanager
def stack_settings(stack: Stack, **overrides: object) -> Iterator[TwilioHarness]:
    """Run the live stack's gateway with some settings changed (Rasa's NLG calls it too)."""
    from dataclasses import replace

    from bot.core.services import EXTENSION, build_services

    original = stack.app.extensions[EXTENSION]
    stack.app.extensions[EXTENSION] = build_services(replace(stack.settings, **overrides))  # type: ignore[arg-type]
    try:
        yield TwilioHarness(stack.app.test_client())
    finally:
        stack.app.extensions[EXTENSION] = original


# --- Fast tests: the real pipeline, Redis and catalogs; fakes for Rasa and Twilio -----------

class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_767_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class Pipeline:
    """Drive handle_inbound directly, as the webhook would, and inspect what happened."""

    svc: Services
    rasa: FakeRasa
    outbound: RecordingOutbound
    clock: FakeClock
    redis: Redis

    def text(self, body: str, sender: str = "+254711000001", channel: str = "sms", **fields: object) -> list[str]:
        """Send one message through the pipeline and return the replies."""
        message = InboundMessage(channel=channel, sender=sender, recipient=LANTERN_NUMBER, text=body,
                                 message_id="SM" + secrets.token_hex(16), **fields)  # type: ignore[arg-type]
        return handle_inbound(self.svc, message)

    def run_jobs(self) -> int:
        """Run the jobs the pipeline queued (alerts, Rasa pause, messages), as the worker would."""
        return run_jobs(self.svc)

    def person(self, sender: str = "+254711000001") -> str:
        """Return the keyed hash standing for a number."""
        return self.svc.person_id(sender)

    def state(self, sender: str = "+254711000001") -> PersonState:
        """Return a person's stored state."""
        return self.svc.people.load(self.person(sender))

    def case(self, sender: str = "+254711000001") -> Case | None:
        """Return a person's current case."""
        return self.svc.cases.current_for(self.person(sender))

    def render(self, key: str, language: str = "en", **values: object) -> str:
        """Render a catalog sentence as the bot would."""
        return self.svc.render(key, language, **values)


@pytest.fixture(scope="session")
def fast_services() -> Services:
    """Services built once for the fast tests, on their own Redis database."""
    return build_services(make_settings(redis_url=FAST_REDIS_URL, oncall_numbers=(ONCALL_NUMBER,)))


@pytest.fixture
def pipeline(fast_services: Services) -> Iterator[Pipeline]:
    """The pipeline with fresh fakes, a fixed clock and an empty Redis database."""
    redis = fast_services.redis
    redis.flushdb()
    empty_database(fast_services)
    clock = FakeClock()
    rasa = FakeRasa(render=lambda key, language: fast_services.render(key, language))
    outbound = RecordingOutbound(fast_services.settings, fast_services.people, fast_services.cases, clock=clock)
    svc = dataclasses.replace(fast_services, rasa=rasa, outbound=outbound, clock=clock)  # type: ignore[arg-type]
    yield Pipeline(svc, rasa, outbound, clock, redis)
    redis.flushdb()


@pytest.fixture
def gateway(pipeline: Pipeline) -> TwilioHarness:
    """The signed-webhook harness on an app that uses the fast pipeline's services."""
    app = create_app(pipeline.svc.settings, services=pipeline.svc)
    return TwilioHarness(app.test_client())


@pytest.fixture
def console(pipeline: Pipeline) -> StaffBrowser:
    """A supervisor logged in to the console of an app that uses the fast pipeline's services."""
    from bot.staff.accounts import Accounts

    username, password = "amina", "a-long-enough-password"
    Accounts(pipeline.svc.db, pipeline.redis, pipeline.svc.keys).create(username, password, "supervisor")
    browser = StaffBrowser(create_app(pipeline.svc.settings, services=pipeline.svc).test_client())
    assert browser.login(username, password) == 302
    return browser
