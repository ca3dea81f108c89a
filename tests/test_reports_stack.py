"""Reports through the real stack: a scripted day of conversations (Rasa, the action server, the gateway),
then the stats API and the CSV exports give exactly the expected counts and times, suppressed, with no
number, text or keyed hash in any of them."""

from __future__ import annotations

import csv
import io
import re
import statistics
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.core.database import events
from bot.core.services import Services, get_services
from tests.conftest import STAFF_API_TOKEN, Stack, StaffBrowser, TwilioHarness, create_staff, new_number

pytestmark = pytest.mark.stack
BEARER = {"Authorization": f"Bearer {STAFF_API_TOKEN}"}
SHELTER, TOWN = "where can i find a shelter", "Mombasa"
DISCLOSURES = {"please help me now they are beating me": "emergency",
               "my sister is locked in a house and cant leave": "urgent",
               "my cousin is locked in the house and they do not pay her": "urgent",
               "i want to talk to a real person": "normal"}


def services(stack: Stack) -> Services:
    """Return the live gateway's services."""
    with stack.app.app_context():
        return get_services()


def test_a_scripted_day_gives_exact_suppressed_figures_and_no_pii(stack: Stack, twilio: TwilioHarness) -> None:
    svc = services(stack)
    with svc.db.begin() as connection:
        connection.execute(events.delete())
    supervisor = StaffBrowser(stack.app.test_client())
    assert supervisor.login(*create_staff(stack, "supervisor")) == 302
    english = [new_number() for _ in range(6)]
    swahili = [new_number() for _ in range(3)]
    spanish = new_number()
    for number in english:
        twilio.text(number, "hi")
        twilio.text(number, "1")
    for number in swahili:
        twilio.text(number, "hi", whatsapp=True)
        twilio.text(number, "5", whatsapp=True)
    twilio.text(spanish, "hola")
    twilio.text(spanish, "2")
    for number in english[:2]:
        twilio.text(number, SHELTER)
        twilio.text(number, TOWN)
    for number, text in zip(english[2:], DISCLOSURES, strict=True):
        twilio.text(number, text)
    cases = [svc.cases.current_for(svc.person_id(number)) for number in english[2:]]
    assert [c.priority if c else None for c in cases] == list(DISCLOSURES.values())
    for case in cases:
        assert case is not None
        time.sleep(0.3)
        assert supervisor.post(f"/staff/cases/{case.id}/claim").status_code == 302
    for case in cases:
        assert case is not None
        assert supervisor.post(f"/staff/cases/{case.id}/reply", text="We are with you.").status_code == 302
    for case, outcome in zip(cases, ("referred", "referred", "referred", "resolved"), strict=True):
        assert case is not None
        assert supervisor.post(f"/staff/cases/{case.id}/close", outcome=outcome, summary="Done").status_code == 302
    for number in swahili:
        twilio.text(number, "STOP", whatsapp=True)

    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    args = {"from": today, "to": today}
    report = supervisor.client.get("/staff/api/stats", query_string=args, headers=BEARER).get_json()
    assert report["contacts_by_language"]["cells"][today] == {"en": 6, "es": "<3", "sw": 3}
    assert report["contacts_by_channel"]["cells"][today] == {"sms": 7, "whatsapp": 3}
    assert report["activity"]["cells"][today]["new_contacts"] == 10
    assert report["escalations_by_priority"]["cells"][today] == {"emergency": "<3", "urgent": "<3", "normal": "<3"}
    assert report["escalations_by_priority"]["total"] == 4
    assert report["resource_categories"]["total"] == 4 and report["resource_countries"]["cells"]["all"] == {"KE": 4}
    assert report["outcomes"]["cells"]["all"] == {"referred": "*", "resolved": "<3"}, "3 + 1: the 3 hides the 1"
    assert report["keywords"]["cells"][today]["stop"] == 3
    stored = [svc.cases.get(case.id) for case in cases if case]
    claims = [c.claimed_at - c.waiting_since for c in stored if c]
    replies = [c.first_reply_at - c.waiting_since for c in stored if c]
    assert report["time_to_claim"]["all"]["n"] == 4
    assert report["time_to_claim"]["all"]["median"] == round(statistics.median(claims), 1)
    assert report["time_to_first_reply"]["all"]["median"] == round(statistics.median(replies), 1)

    per_case = list(csv.DictReader(io.StringIO(
        supervisor.client.get("/staff/reports/cases.csv", query_string=args).data.decode())))
    assert sorted(row["case"] for row in per_case) == sorted(c.id for c in stored if c)
    for row in per_case:
        case = svc.cases.get(row["case"])
        assert case is not None and row["outcome"] == case.outcome and row["priority"] == case.priority
        assert row["claimed_after_s"] == str(round(case.claimed_at - case.waiting_since))
    daily = list(csv.DictReader(io.StringIO(
        supervisor.client.get("/staff/reports/daily.csv", query_string=args).data.decode())))
    assert daily[0]["contacts_en"] == "6" and daily[0]["contacts_es"] == "<3" and daily[0]["keyword_stop"] == "3"

    outputs = [supervisor.client.get(path, query_string=args, headers=BEARER).data.decode() for path in
               ("/staff/reports", "/staff/reports/daily.csv", "/staff/reports/cases.csv", "/staff/api/stats")]
    outputs.append(stack.app.test_client().get("/metrics").data.decode())
    with svc.db.connect() as connection:
        tags = set(connection.execute(select(events.c.contact)).scalars()) - {""}
        case_ids = set(connection.execute(select(events.c.case_id)).scalars()) - {""}
    numbers = [*english, *swahili, spanish]
    secrets = {n.lstrip("+") for n in numbers} | {n[-9:] for n in numbers} | {svc.person_id(n) for n in numbers}
    secrets |= {svc.person_id(n)[:12] for n in numbers} | tags | set(DISCLOSURES) | {SHELTER, "We are with you."}
    for output in outputs:
        assert not [s for s in secrets if s in output]
        without_ids = re.sub("|".join(case_ids), "", output) if case_ids else output  # hex ids may be all digits
        assert not re.search(r"\d{9,}", re.sub(r"\d+\.\d+(e[+-]\d+)?", "", without_ids))
