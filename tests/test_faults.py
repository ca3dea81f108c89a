"""Faults through the real processes (issue 13): Redis, Rasa or the gateway crashes mid-conversation.

Each test uses its own private Redis and gunicorn gateway (bench/processes.py), never the shared Redis,
and restarts what it kills: no supervisor runs here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import requests
from twilio.request_validator import RequestValidator

from bench.processes import Processes, running_processes
from bot.staff.accounts import Accounts
from tests.conftest import LANTERN_NUMBER, new_number, replies

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def procs() -> Iterator[Processes]:
    """One gateway, one Rasa server, actions, the sweeper and a private Redis for this module."""
    with running_processes(gateways=1, rasa_servers=1, workers=1) as running:
        yield running


class Texter:
    """One person texting the gunicorn gateway, signed as Twilio signs."""

    def __init__(self, procs: Processes) -> None:
        self.procs = procs
        self.number = new_number()
        self.validator = RequestValidator(procs.settings.twilio_auth_token)

    def form(self, body: str) -> dict[str, str]:
        """Build a Twilio inbound-message form with a new MessageSid."""
        return {"From": self.number, "To": LANTERN_NUMBER, "Body": body, "NumMedia": "0",
                "MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "1" * 32}

    def post(self, form: dict[str, str], **headers: str) -> requests.Response:
        """Post a form to the gateway, signed against PUBLIC_URL."""
        url = self.procs.settings.public_url + "/webhooks/twilio"
        signature = self.validator.compute_signature(url, form)
        return requests.post(self.procs.gateway_urls[0] + "/webhooks/twilio", data=form, timeout=20,
                             headers={"X-Twilio-Signature": signature, **headers})

    def text(self, body: str) -> list[str]:
        """Send a message; assert a 200 TwiML answer; return the replies."""
        response = self.post(self.form(body))
        assert response.status_code == 200, response.text[:200]
        return replies(response.text)


def hotline(procs: Processes) -> str:
    """Return the hotline number every fallback carries."""
    return procs.settings.hotline_number


def start_conversation(texter: Texter) -> None:
    """Pick English from the language menu and open the main menu."""
    texter.text("hi")
    texter.text("english")
    assert texter.text("0")


def test_redis_killed_and_restarted_mid_conversation(procs: Processes) -> None:
    """Redis SIGKILLed: 200 with the hotline during the outage, then normal answers; never a 500."""
    texter = Texter(procs)
    start_conversation(texter)
    procs.kill("redis")
    try:
        during = texter.text("what are the signs of a fake job offer")
        assert len(during) == 1 and hotline(procs) in during[0]
    finally:
        procs.restart("redis")
    deadline = time.monotonic() + 30
    answers: list[str] = []
    while time.monotonic() < deadline:
        answers = texter.text("what are my rights at work")
        assert answers, "a person was left without any reply after Redis came back"
        if not any(hotline(procs) in a and a.startswith("Sorry") for a in answers):
            break
        time.sleep(1)
    assert answers and not any(a.startswith("Sorry") for a in answers), answers


def test_rasa_killed_gives_the_hotline(procs: Processes) -> None:
    """Rasa SIGKILLed: the next message to it gets the hotline reply with 200."""
    texter = Texter(procs)
    start_conversation(texter)
    procs.kill("rasa")
    try:
        during = texter.text("how do i check a recruitment agency")
        assert len(during) == 1 and hotline(procs) in during[0]
    finally:
        procs.restart("rasa")
    assert texter.text("how do i check a recruitment agency")


def test_gateway_restart_gives_no_duplicate_reply_to_a_twilio_retry(procs: Processes) -> None:
    """Gateway SIGKILLed and restarted: a retry of an answered MessageSid gets an empty TwiML answer."""
    texter = Texter(procs)
    form = texter.form("hello")
    first = texter.post(form)
    assert first.status_code == 200 and replies(first.text)
    procs.kill("gateway0")
    procs.restart("gateway0")
    retry = texter.post(form, **{"I-Twilio-Idempotency-Token": form["MessageSid"] + "-1"})
    assert retry.status_code == 200 and replies(retry.text) == []


def open_cases(procs: Processes) -> list[dict[str, object]]:
    """List open cases through the staff JSON API."""
    response = requests.get(procs.gateway_urls[0] + "/staff/api/escalations", timeout=10,
                            headers={"Authorization": f"Bearer {procs.settings.staff_api_token}"})
    assert response.status_code == 200
    return list(response.json())


def test_open_case_stays_with_staff_after_redis_is_lost(procs: Processes) -> None:
    """Redis killed and restarted empty: the case opened before is still open and gets the person's next
    message (the bot stays quiet), staff log in with their account, and the directory reloads itself."""
    from bot.core.services import build_services

    password = secrets.token_urlsafe(18)
    svc = build_services(procs.settings)  # the processes' own database (procs.settings carries its URL)
    Accounts(svc.db, svc.redis, svc.keys).create("amina", password, "supervisor")
    texter = Texter(procs)
    start_conversation(texter)
    texter.text("my boss took my passport and locks me in the house, i cannot leave")
    before = {case["id"] for case in open_cases(procs)}
    assert before
    procs.kill("redis")
    procs.restart("redis")
    texter.text("are you there? please help")
    assert before <= {case["id"] for case in open_cases(procs)}
    case = svc.cases.current_for(svc.person_id(texter.number))
    assert case is not None and case.id in before and case.active
    assert "are you there? please help" in [turn["text"] for turn in svc.cases.transcript(case.id)]
    login = requests.post(procs.gateway_urls[0] + "/staff/login", timeout=30, allow_redirects=False,
                          data={"username": "amina", "password": password})
    assert login.status_code == 302, "staff log in after Redis was lost"
    other = Texter(procs)
    other.text("hi")
    other.text("english")
    assert any(hotline(procs) in reply or "+254" in reply for reply in other.text("shelter in mombasa")), \
        "the directory reloaded itself into the new Redis"
