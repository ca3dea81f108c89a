"""Case end to end: risk message -> case -> Rasa paused -> relay -> staff reply -> close."""

from __future__ import annotations

import json

import pytest
import requests

from bot.core.identity import sender_key
from bot.core.services import get_services
from tests.conftest import (
    ONCALL_NUMBER,
    RASA_TOKEN,
    Stack,
    StaffBrowser,
    TwilioHarness,
    content,
    create_staff,
    new_number,
    sent_to,
    stack_settings,
    wait_for,
)

pytestmark = pytest.mark.stack


def case_for(stack: Stack, sender: str) -> dict[str, object]:
    """Return the staff API's view of the sender's case."""
    with stack.app.app_context():
        svc = get_services()
        case = svc.cases.current_for(svc.person_id(sender))
        assert case is not None
        return {**case.summary(), "person": case.person}


def rasa_paused(stack: Stack, sender: str) -> bool:
    """Ask the real Rasa server whether the conversation is paused."""
    person = sender_key("test-hash-key", sender)
    tracker = requests.get(f"{stack.settings.rasa_urls[0]}/conversations/{person}/tracker",
                           params={"token": RASA_TOKEN}, timeout=10).json()
    return bool(tracker["paused"])


def test_full_handoff_lifecycle(stack: Stack, twilio: TwilioHarness, staff: StaffBrowser) -> None:
    """The worst errors: missing a person in danger, or the bot talking over staff."""
    sender = new_number()
    first = twilio.text(sender, "my boss took my passport and locks the door at night")
    assert "+254 800 720 000" in first[0] and "112" in first[0], "numbers first"
    assert first[-1].startswith("Is it safe to text"), "then the optional safety check"

    case = case_for(stack, sender)
    assert case["status"] == "open" and case["priority"] == "urgent" and case["language"] == "en"
    assert wait_for(lambda: rasa_paused(stack, sender)), "the worker paused Rasa"

    ack = twilio.text(sender, "he is shouting again")
    assert len(ack) == 1 and "+254 800 720 000" in ack[0], "acknowledged with the hotline, not answered by the bot"
    assert twilio.text(sender, "and now he left") == [], "acknowledged at most every few minutes"
    assert twilio.text(sender, "menu")[0].startswith("You are chatting with our team"), "MENU is explained"
    assert "+254 800 720 000" in twilio.text(sender, "HELP")[0], "HELP still answers"
    queue = staff.client.get("/staff/api/escalations",
                             headers={"Authorization": "Bearer test-staff-api-token"}).get_json()
    assert any(item["id"] == case["id"] for item in queue)
    assert sender not in json.dumps(queue) and sender.lstrip("+") not in json.dumps(queue)

    page = staff.client.get(f"/staff/cases/{case['id']}").data.decode()
    assert "he is shouting again" in page and "my boss took my passport" in page
    sent_before = len(stack.twilio_api.sent)
    assert staff.post(f"/staff/cases/{case['id']}/claim").status_code == 302  # type: ignore[attr-defined]
    staff.post(f"/staff/cases/{case['id']}/reply", text="Hello, I am Amina from the hotline. Are you safe now?")
    sent = sent_to(stack, sender, sent_before, count=2)
    assert [m["Body"] for m in sent] == ["A person from our team is here now. You can write freely.",
                                         "Hello, I am Amina from the hotline. Are you safe now?"]
    assert sent[-1]["From"] == stack.settings.twilio_sms_from

    staff.post(f"/staff/cases/{case['id']}/close", outcome="referred", summary="Referred to the shelter.")
    assert case_for(stack, sender)["status"] == "closed"
    assert wait_for(lambda: not rasa_paused(stack, sender)), "the worker resumed Rasa"
    assert sent_to(stack, sender, sent_before, count=3)[-1]["Body"].startswith("Our team closed this chat")
    assert twilio.text(sender, "0")[0].startswith("Hi, this is Lantern"), "the bot answers again"


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("please help me now they are beating me", "emergency"),
        ("my sister is locked in a house and cant leave", "urgent"),
        ("i want to talk to a real person", "normal"),
    ],
)
def test_priorities(twilio: TwilioHarness, stack: Stack, text: str, priority: str) -> None:
    """Immediate danger is an emergency, a (third-person) disclosure urgent, asking for a person normal."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    replies = twilio.text(sender, text)
    assert case_for(stack, sender)["priority"] == priority
    if priority != "normal":
        assert "+254 800 720 000" in replies[0]


def test_new_message_soon_after_close_reopens_the_case(
    stack: Stack, twilio: TwilioHarness, staff: StaffBrowser
) -> None:
    """A new escalation within HANDOFF_REOPEN_SECONDS reopens the same case."""
    sender = new_number()
    twilio.text(sender, "they took my passport and i cannot leave")
    case_id = case_for(stack, sender)["id"]
    staff.post(f"/staff/cases/{case_id}/claim")
    staff.post(f"/staff/cases/{case_id}/close", outcome="resolved", summary="Answered her questions.")
    twilio.text(sender, "they are threatening me again, i want to talk to someone")
    again = case_for(stack, sender)
    assert again["id"] == case_id and again["status"] == "open"


def test_staff_reply_outside_the_safe_contact_window_is_refused(stack: Stack, twilio: TwilioHarness,
                                                                  staff: StaffBrowser) -> None:
    """The console says why it cannot send when the person last wrote too long ago."""
    sender = new_number()
    twilio.text(sender, "my employer does not pay me and keeps my passport")
    case_id = case_for(stack, sender)["id"]
    staff.post(f"/staff/cases/{case_id}/claim")
    with stack.app.app_context():
        svc = get_services()
        svc.people.update(svc.person_id(sender), last_inbound=svc.clock() - 25 * 3600)
    sent_before = len(stack.twilio_api.sent)
    page = staff.client.get(f"/staff/cases/{case_id}").data.decode()
    assert "Lantern never writes first" in page or "last wrote over" in page
    staff.post(f"/staff/cases/{case_id}/reply", text="hello?")
    assert len(stack.twilio_api.sent) == sent_before


def test_unclaimed_case_reminds_staff_and_gives_the_hotline(stack: Stack, twilio: TwilioHarness) -> None:
    """After HANDOFF_UNCLAIMED_SECONDS the person gets the hotline number (once)."""
    from bot.handoff.rules import remind_unclaimed

    sender = new_number()
    twilio.text(sender, "my friend is forced to work and they hit her")
    with stack.app.app_context():
        svc = get_services()
        case = svc.cases.current_for(svc.person_id(sender))
        assert case is not None
        svc.cases.update(case, "test", created_at=case.created_at - 3600)
        sent_before = len(stack.twilio_api.sent)
        assert remind_unclaimed(svc) >= 1
        bodies = [m["Body"] for m in sent_to(stack, sender, sent_before)]
        assert bodies and "+254 800 720 000" in bodies[0]
        assert f"Lantern: UNCLAIMED urgent case {case.id}" in [m["Body"] for m in sent_to(stack, ONCALL_NUMBER,
                                                                                          sent_before)]
        remind_unclaimed(svc)
        assert not wait_for(lambda: len(sent_to(stack, sender, sent_before, timeout=0)) > 1, timeout=2)


def test_outside_operating_hours_the_person_is_told_when_staff_are_back(stack: Stack) -> None:
    """Outside hours the first risk reply adds when staff are back and the hotline."""
    with stack_settings(stack, operating_hours="Mon 00:00-00:01") as twilio:
        replies = twilio.text(new_number(), "my boss took my passport and i cannot leave the house")
    assert "+254 800 720 000" in replies[0]
    assert any(content(r).startswith("Our team is back") for r in replies), replies


def test_supervisor_sees_the_audit_log(stack: Stack, staff: StaffBrowser) -> None:
    """Every staff action is audited; only supervisors read the log."""
    assert staff.client.get("/staff/audit").status_code == 403
    supervisor = StaffBrowser(stack.app.test_client())
    assert supervisor.login(*create_staff(stack, "supervisor")) == 302
    page = supervisor.client.get("/staff/audit").data.decode()
    assert "login" in page


def test_on_call_alerts_carry_only_the_case_id_and_priority(stack: Stack) -> None:
    """On-call phones get 'new <priority> case <id>' (from the worker), never the person's words or number."""
    twilio = TwilioHarness(stack.app.test_client())
    sender = new_number()
    before = len(stack.twilio_api.sent)
    twilio.text(sender, "my boss took my passport and locks the door at night")
    case_id = case_for(stack, sender)["id"]
    mine = f"Lantern: new urgent case {case_id}"
    assert wait_for(lambda: any(a["Body"] == mine for a in sent_to(stack, ONCALL_NUMBER, before, timeout=0)))
    assert [a["Body"] for a in sent_to(stack, ONCALL_NUMBER, before) if case_id in a["Body"]] == [mine]


def test_staff_look_up_a_resource_and_send_it(stack: Stack, twilio: TwilioHarness, staff: StaffBrowser) -> None:
    """From a case, staff search 'lawyer mombasa' and send an entry to the person."""
    sender = new_number()
    twilio.text(sender, "they took my passport and i cannot leave")
    case_id = case_for(stack, sender)["id"]
    before = len(stack.twilio_api.sent)
    staff.post(f"/staff/cases/{case_id}/claim")
    page = staff.post(f"/staff/cases/{case_id}/resources", query="lawyer in mombasa")
    html = page.data.decode()  # type: ignore[attr-defined]
    assert "Coast Legal Aid Clinic" in html and "+254 700 100 200" in html
    staff.post(f"/staff/cases/{case_id}/reply", text="[DEMO] Coast Legal Aid Clinic: +254 700 100 200 (Mon-Fri 8-17)")
    last = sent_to(stack, sender, before, count=2)[-1]
    assert last["Body"].startswith("[DEMO] Coast Legal Aid Clinic: +254 700 100 200")


def test_transfer_to_a_colleague_moves_ownership(stack: Stack, twilio: TwilioHarness, staff: StaffBrowser) -> None:
    """A claimed case can be handed to a colleague, who can then reply; the first owner cannot."""
    sender = new_number()
    twilio.text(sender, "my cousin is locked in the house and they do not pay her")
    case_id = case_for(stack, sender)["id"]
    colleague_name, colleague_password = create_staff(stack)
    before = len(stack.twilio_api.sent)
    staff.post(f"/staff/cases/{case_id}/claim")
    assert staff.post(f"/staff/cases/{case_id}/transfer", to=colleague_name).status_code == 400, "note required"
    staff.post(f"/staff/cases/{case_id}/transfer", to=colleague_name, note="She speaks Swahili; call back at 6.")
    assert case_for(stack, sender)["claimed_by"] == colleague_name
    assert staff.post(f"/staff/cases/{case_id}/reply", text="hi").status_code == 403  # type: ignore[attr-defined]
    colleague = StaffBrowser(stack.app.test_client())
    assert colleague.login(colleague_name, colleague_password) == 302
    colleague.post(f"/staff/cases/{case_id}/reply", text="Hello, I am taking over your case.")
    assert sent_to(stack, sender, before, count=2)[-1]["Body"] == "Hello, I am taking over your case."
