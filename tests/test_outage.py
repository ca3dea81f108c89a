"""Outages: Rasa, the action server or Redis down -> the hotline in the person's language, 200."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.app import create_app
from bot.tools.stack import free_port, wait_until
from tests.conftest import Pipeline, Stack, StaffBrowser, TwilioHarness, content, make_settings, new_number
from tests.twilio_api import json_reply

HOTLINE = "+254 800 720 000"


def harness_for(**overrides: object) -> TwilioHarness:
    """A harness against a gateway app built with some settings changed."""
    return TwilioHarness(create_app(make_settings(log_level="WARNING", **overrides)).test_client())


@pytest.mark.stack
def test_rasa_stopped_gives_the_hotline_in_the_persons_language(stack: Stack) -> None:
    """With nothing listening where Rasa should be, a Swahili texter gets the Swahili hotline reply."""
    dead = f"http://127.0.0.1:{free_port()}"
    twilio = harness_for(rasa_urls=(dead,), actions_url=dead)
    replies = twilio.text(new_number(), "habari naomba msaada kuhusu kazi yangu ya nyumbani")
    assert len(replies) >= 1 and HOTLINE in replies[0]
    assert content(replies[0]).startswith("Samahani")


def test_redis_unreachable_gives_the_hotline() -> None:
    """With Redis unreachable, the gateway still answers 200 with the hotline number."""
    twilio = harness_for(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    replies = twilio.text(new_number(), "hello i need help please")
    assert replies == [replies[0]] and HOTLINE in replies[0]


class EmptyRasa(BaseHTTPRequestHandler):
    """A Rasa stand-in that answers every message with an empty list."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        json_reply(self, 200, [])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def empty_rasa() -> Iterator[str]:
    """Serve the empty-answer Rasa stand-in."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmptyRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_empty_rasa_answer_is_a_failure_not_silence(empty_rasa: str) -> None:
    """An empty answer from Rasa gets the hotline reply instead of nothing."""
    twilio = harness_for(rasa_urls=(empty_rasa,))
    sender = new_number()
    twilio.text(sender, "hi")
    replies = twilio.text(sender, "1")
    assert any(HOTLINE in r for r in replies)


@pytest.mark.stack
def test_action_server_stopped_gives_the_hotline(stack: Stack, twilio: TwilioHarness) -> None:
    """With the action server down, a resource request gets the hotline; it recovers after restart."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    actions = stack.child("actions")
    actions.stop()
    try:
        replies = twilio.text(sender, "i need a lawyer in mombasa")
        assert any(HOTLINE in r for r in replies), replies
        assert requests.get(f"{stack.gateway_url}/healthz", timeout=5).status_code == 503
    finally:
        actions.start(echo=False)
        assert wait_until(lambda: requests.get(f"{stack.settings.actions_url}/health", timeout=2).ok, 60)
    assert any("+254 700 100 200" in r for r in twilio.text(sender, "i need a lawyer in mombasa"))


@pytest.mark.stack
def test_healthz_reports_each_component(stack: Stack) -> None:
    """/healthz is 200 with every component up: the status for anyone, the details with the API token."""
    response = requests.get(f"{stack.gateway_url}/healthz", timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    detailed = requests.get(f"{stack.gateway_url}/healthz", timeout=5,
                            headers={"Authorization": "Bearer test-staff-api-token"})
    assert detailed.json() == {"status": "ok", "redis": "up", "rasa": "up", "actions": "up"}


@pytest.mark.stack
def test_the_action_server_and_rasa_listen_on_loopback_only(stack: Stack) -> None:
    """Nothing but the gateway is reachable from the network (the action server used to bind 0.0.0.0)."""
    from urllib.parse import urlparse

    listening = listening_addresses()
    for url in (stack.settings.actions_url, stack.settings.rasa_urls[0]):
        port = urlparse(url).port
        assert listening.get(port) == {"127.0.0.1"}, (url, listening.get(port))


def listening_addresses() -> dict[int, set[str]]:
    """Map each listening TCP port to its local IPv4/IPv6 addresses, from /proc/net (Linux)."""
    import ipaddress
    from pathlib import Path

    found: dict[int, set[str]] = {}
    for name in ("tcp", "tcp6"):
        table = Path("/proc/net") / name
        if not table.exists():
            pytest.skip("needs Linux /proc/net")
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":  # LISTEN
                continue
            address_hex, port_hex = local.split(":")
            raw = bytes.fromhex(address_hex)
            words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]  # kernel stores each 32-bit word little-endian
            address = str(ipaddress.ip_address(b"".join(words)))
            found.setdefault(int(port_hex, 16), set()).add(address.replace("::ffff:", ""))
    return found


def test_redis_lost_an_open_case_stays_with_staff_and_staff_can_still_log_in(
    pipeline: Pipeline, console: StaffBrowser
) -> None:
    """Cases and accounts live in the database: after Redis is flushed (a restart that kept nothing), the
    person's next message still goes to the staff on their case, not to the bot, and staff log in again."""
    sender = "+254711000777"
    pipeline.rasa.answers["my boss locked me in and took my passport"] = ["utter_escalate_urgent"]
    pipeline.text("my boss locked me in and took my passport", sender)
    case = pipeline.case(sender)
    assert case is not None and case.active
    pipeline.redis.flushdb()
    asked_rasa = len(pipeline.rasa.sent)
    pipeline.text("are you still there? please answer", sender)
    assert len(pipeline.rasa.sent) == asked_rasa, "the bot stays paused for a person with an open case"
    assert pipeline.case(sender).id == case.id  # type: ignore[union-attr]
    assert "are you still there? please answer" in [t["text"] for t in pipeline.svc.cases.transcript(case.id)]
    assert console.client.get("/staff/queue").status_code == 302, "the session was in Redis: log in again"
    assert console.login("amina", "a-long-enough-password") == 302
    page = console.client.get("/staff/queue").data.decode()
    assert case.id in page


class AnsweringRasa(BaseHTTPRequestHandler):
    """A Rasa stand-in that answers every message, or sleeps first when the message says "slow"."""

    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        AnsweringRasa.seen.append(body)
        if "slow" in body:
            time.sleep(3)
        json_reply(self, 200, [{"text": "Hello", "custom": {"lantern": {"response": "utter_greet"}}}])

    def log_message(self, *args: object) -> None:
        pass


def test_a_rasa_server_that_is_down_hands_its_conversations_to_another_one() -> None:
    """Two Rasa servers share the tracker store: when a person's server refuses connections, the next
    one answers; a server that is only slow is not bypassed (it may still be working on the message)."""
    from bot.dialogue.client import RasaClient, RasaUnavailable

    server, other = (ThreadingHTTPServer(("127.0.0.1", 0), AnsweringRasa) for _ in range(2))
    for each in (server, other):
        threading.Thread(target=each.serve_forever, daemon=True).start()
    live, dead = f"http://127.0.0.1:{server.server_address[1]}", f"http://127.0.0.1:{free_port()}"
    second = f"http://127.0.0.1:{other.server_address[1]}"
    try:
        client = RasaClient((dead, live), "token", dead, timeout=1.0)
        on_dead = next(s for s in ("0" * 8, "1" * 8) if client.server_for(s) == dead)
        assert client.send(on_dead, "hello", {}).texts == ["Hello"]
        client.pause(on_dead)  # tracker events fail over too
        alone = RasaClient((live,), "token", dead, timeout=1.0)
        with pytest.raises(RasaUnavailable):
            alone.send(on_dead, "slow", {})
        AnsweringRasa.seen.clear()
        slow_first = RasaClient((live, second), "token", dead, timeout=1.0)
        with pytest.raises(RasaUnavailable):
            slow_first.send(next(s for s in ("0" * 8, "1" * 8) if slow_first.server_for(s) == live), "slow", {})
        assert len(AnsweringRasa.seen) == 1, "a timeout is not retried on another server"
    finally:
        server.shutdown()
        other.shutdown()


def test_database_unreachable_still_gives_the_hotline(pipeline: Pipeline, gateway: TwilioHarness) -> None:
    """With the database down mid-shift (cases cannot be read or opened), a texter still gets 200 and the
    hotline number, a danger message included, never a 500 to Twilio."""
    from sqlalchemy import create_engine

    db = pipeline.svc.db
    working = db.engine
    db.engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/lantern", future=True,
                              connect_args={"connect_timeout": 1})
    try:
        pipeline.rasa.answers["my boss locked me in"] = ["utter_escalate_urgent"]
        for text in ("hello", "my boss locked me in"):
            replies = gateway.text("+254711000888", text)
            assert replies and any(HOTLINE in reply for reply in replies), (text, replies)
    finally:
        db.engine.dispose()
        db.engine = working


def test_redis_lost_between_the_safety_question_and_the_answer(pipeline: Pipeline) -> None:
    """The person is asked whether it is safe to text; Redis restarts empty; their "yes" is still the
    answer to that question (the case knows it is unanswered), not a message relayed to staff."""
    sender = "+254711000999"
    pipeline.rasa.answers["my boss locked me in and took my passport"] = ["utter_escalate_urgent"]
    pipeline.text("my boss locked me in and took my passport", sender)
    assert pipeline.state(sender).menu == "utter_safety_check"
    pipeline.redis.flushdb()
    assert pipeline.text("yes", sender) == [pipeline.render("safe_yes")]
    assert pipeline.case(sender).safe_to_text == "yes"  # type: ignore[union-attr]
