"""Privacy and safety through the real stack: TTLs, erase, quick exit, opt-out, never first, logs."""

from __future__ import annotations

import ast
import io
import json
import logging
import re
import secrets

import pytest
from cryptography.fernet import Fernet
from redis import Redis

from bot.core.identity import Vault
from bot.core.logs import JsonFormatter
from bot.core.services import get_services
from bot.tools.key_rotation import rotate_all
from bot.tools.privacy_audit import keys_without_ttl, secrets_in_database, secrets_in_logs, secrets_in_redis
from tests.conftest import ROOT, Stack, StaffBrowser, TwilioHarness, new_number, stack_settings

pytestmark = pytest.mark.stack


def full_conversation(twilio: TwilioHarness, sender: str) -> list[str]:
    """Run a conversation touching every feature that stores something about a person."""
    texts = ["hello", "1", "1", "0", "2", "2", "Mombasa", "4",
             "my boss took my passport and locks the door at night", "1", "he is angry with me today"]
    for text in texts:
        twilio.text(sender, text)
    return texts


def test_every_personal_key_expires(twilio: TwilioHarness, redis_db: Redis) -> None:
    """After a full conversation no key about a person lacks a TTL (Rasa's tracker included)."""
    full_conversation(twilio, new_number())
    assert any(":tracker:" in key for key in redis_db.scan_iter("lantern:*"))
    assert keys_without_ttl(redis_db, "lantern:") == []


def test_no_phone_number_in_redis_and_no_clear_text_in_gateway_state(
    stack: Stack, twilio: TwilioHarness, redis_db: Redis
) -> None:
    """The number is nowhere in Redis (keys or values) nor the database; neither holds message words in clear."""
    sender = new_number()
    full_conversation(twilio, sender)
    assert secrets_in_redis(redis_db, "lantern:", sender, ["passport", "angry"]) == []
    with stack.app.app_context():
        assert secrets_in_database(get_services().db, sender, ["passport", "angry"]) == []


def test_rasas_tracker_is_encrypted_at_rest(stack: Stack, twilio: TwilioHarness, redis_db: Redis) -> None:
    """The real Rasa server saves the tracker encrypted (readable only with the vault), current session only."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    twilio.text(sender, "what are my rights as a domestic worker")
    with stack.app.app_context():
        svc = get_services()
        raw = redis_db.get(svc.keys.rasa_tracker(svc.person_id(sender)))
        assert raw and "domestic worker" not in raw
        assert "domestic worker" in svc.vault.decrypt(raw)
        events = json.loads(svc.vault.decrypt(raw))["events"]
        asked = max(i for i, e in enumerate(events) if e["event"] == "user" and "domestic" in (e.get("text") or ""))
        assert any(e["event"] == "bot" for e in events[asked:]), "saved after answering, not only before"
        assert not any("rest.message.received.failure" in line for c in stack.children for line in c.lines)
        assert 0 < redis_db.ttl(svc.keys.rasa_tracker(svc.person_id(sender))) <= svc.settings.retention_seconds


def test_logs_hold_no_number_text_or_profile_name(stack: Stack, twilio: TwilioHarness) -> None:
    """Everything logged during a conversation (gateway, Rasa, actions) is free of personal data."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    before = {c.name: len(c.lines) for c in stack.children}
    sender = new_number()
    try:
        full_conversation(twilio, sender)
        twilio.text(sender, "Amina here", whatsapp=True, ProfileName="Amina Wanjiru")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    logged = stream.getvalue() + "".join("".join(c.lines[before.get(c.name, 0):]) for c in stack.children)
    assert "answered" in logged, "the scan must see real log lines"
    assert secrets_in_logs(logged, [sender, sender.lstrip("+"), sender[-7:], "passport", "angry", "Wanjiru",
                                    "Mombasa"]) == []


def test_delete_keyword_erases_everything(stack: Stack, twilio: TwilioHarness, redis_db: Redis) -> None:
    """DELETE (here Spanish BORRAR) erases state, transcripts, the Rasa tracker and the case transcript."""
    sender = new_number()
    full_conversation(twilio, sender)
    with stack.app.app_context():
        svc = get_services()
        person = svc.person_id(sender)
        case = svc.cases.current_for(person)
        assert case is not None and case.active
    reply = twilio.text(sender, "BORRAR")
    assert reply in (["Done."], ["Listo."]), "a harmless confirmation in the person's language"
    assert not [k for k in redis_db.scan_iter(f"*{person}*")], "something about the person survived"
    with stack.app.app_context():
        svc = get_services()
        erased = svc.cases.get(case.id)
        assert erased is not None and erased.status == "closed" and erased.contact == ""
        assert svc.cases.transcript(case.id) == []
        assert any("asked for deletion" in note["text"] for note in svc.cases.notes(case.id))


def test_quick_exit_ends_at_once_with_a_neutral_reply(stack: Stack, twilio: TwilioHarness, redis_db: Redis) -> None:
    """EXIT answers with a harmless line and clears the session (transcript, Rasa tracker)."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    twilio.text(sender, "what are my rights as a domestic worker")
    assert twilio.text(sender, "exit") == ["Done."]
    with stack.app.app_context():
        svc = get_services()
        person = svc.person_id(sender)
        assert not redis_db.exists(svc.keys.transcript(person), svc.keys.rasa_tracker(person))


@pytest.mark.parametrize(("stop", "start"), [("STOP", "START"), ("parar", "iniciar"), ("SITISHA", "ANZA")])
def test_stop_silences_start_resumes_and_help_still_answers(twilio: TwilioHarness, stop: str, start: str) -> None:
    """After STOP only a confirmation; HELP and risk still get answers; START resumes."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    [confirmation] = twilio.text(sender, stop)
    assert "+254 800 720 000" in confirmation
    assert twilio.text(sender, "what are my rights") == []
    assert "+254 800 720 000" in twilio.text(sender, "HELP")[0]
    assert twilio.text(sender, start)
    assert twilio.text(sender, "0")[0].startswith("Hi, this is Lantern")


def test_a_person_who_sent_stop_can_still_reach_help_in_danger(twilio: TwilioHarness) -> None:
    """STOP must never cut a victim off: a risk message still escalates and gets the numbers."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    twilio.text(sender, "STOP")
    replies = twilio.text(sender, "please help they are beating me now")
    assert replies and "112" in replies[0]


def test_outbound_refuses_people_who_never_wrote(stack: Stack) -> None:
    """The one send function will not write first."""
    from bot.handoff.outbound import OutboundRefused

    with stack.app.app_context():
        svc = get_services()
        with pytest.raises(OutboundRefused, match="never writes first"):
            svc.outbound.send_to_person(svc.person_id("+254799999999"), "+254799999999", "sms", "hello")


def test_no_code_path_sends_except_the_outbound_module() -> None:
    """Only bot/handoff/outbound.py calls Twilio's messages.create (every sender goes through it)."""
    offenders = []
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "webhooks").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"create", "messages"}:
                text = ast.unparse(node)
                if "messages.create" in text or text.endswith(".messages"):
                    offenders.append(str(path.relative_to(ROOT)))
    assert set(offenders) == {"bot/handoff/outbound.py"}


def test_per_sender_rate_limit_answers_once_then_stays_quiet(stack: Stack) -> None:
    """Over the per-minute limit the person is told once, in their language."""
    with stack_settings(stack, rate_limit_per_minute=3) as twilio:
        sender = new_number()
        for text in ("hola", "5", "0"):
            assert twilio.text(sender, text)
        limited = twilio.text(sender, "0")
        assert limited and limited[0].startswith("Umetuma") and "+254 800 720 000" in limited[0]
        assert twilio.text(sender, "0") == []


def test_raw_flood_from_one_address_gets_429(stack: Stack) -> None:
    """Per-address flood protection answers 429 before any parsing."""
    from bot.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(ip_rate_limit_per_minute=5, log_level="WARNING")
    client = create_app(settings).test_client()
    codes = [client.post("/webhooks/twilio", data="x=1", content_type="application/x-www-form-urlencoded",
                         environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code for _ in range(8)]
    assert codes[:5] == [403] * 5 and codes[5:] == [429] * 3


def test_key_rotation_re_encrypts_under_the_new_key(stack: Stack, twilio: TwilioHarness, staff: StaffBrowser) -> None:
    """Add a new key first, rotate, drop the old key: everything is still readable."""
    sender = new_number()
    twilio.text(sender, "my boss took my passport and i cannot go out")
    with stack.app.app_context():
        svc = get_services()
        case = svc.cases.current_for(svc.person_id(sender))
        assert case is not None
        old_key, new_key = old_key_of(svc), Fernet.generate_key().decode()
        report = rotate_all(svc.redis, svc.keys, Vault((new_key, old_key), ""), svc.db)
        try:
            assert report.rotated > 0 and report.unreadable == []
            contact = svc.cases.get(case.id).contact  # type: ignore[union-attr]
            assert Vault((new_key,), "").decrypt(contact) == sender
            assert Vault((old_key,), "", keep_derived=False).try_decrypt(contact) is None
            assert svc.cases.transcript(case.id) == [], "the running app still holds only the old key"
        finally:  # give the running stack (Rasa's trackers too) its key back
            rotate_all(svc.redis, svc.keys, Vault((old_key, new_key), ""), svc.db)
            svc.redis.delete(svc.keys.retired_keys)


def old_key_of(svc: object) -> str:
    """Return the derived key the test settings use (no ENCRYPTION_KEYS configured)."""
    from bot.core.identity import _derived_key

    return _derived_key(svc.settings.secret_key).decode()  # type: ignore[attr-defined]


def test_discreet_mode_keeps_the_lock_screen_line_neutral(stack: Stack) -> None:
    """With DISCREET_MODE the first line of every reply is neutral (what a lock screen shows)."""
    with stack_settings(stack, discreet_mode=True) as twilio, stack.app.app_context():
        registry = get_services().registry
        sender = new_number()
        twilio.text(sender, "hi")
        for text in ("1", "1", "1", "my boss took my passport and locks me in"):
            for reply in twilio.text(sender, text):
                first_line = reply.splitlines()[0]
                assert not re.search(r"traffick|danger|exploit|police|abuse|escape|rescue", first_line, re.I), reply
                assert not registry.alarming(reply, "en"), reply
        signs = twilio.text(new_number(), "how do i know if a job offer abroad is a scam")[0]
        assert signs.startswith("Warning signs (1/3)"), signs  # neutral already: no greeting line needed
        other = new_number()
        twilio.text(other, "hi")
        twilio.text(other, "1")
        rights = twilio.text(other, "what are my rights at work")[0]
        assert rights.startswith("Hi\nYour rights at work"), rights  # "violence" on its first line


def test_hypothesis_fuzz_never_500_and_forged_requests_store_nothing(stack: Stack, redis_db: Redis) -> None:
    """Random signed fields never produce a 500; random unsigned ones never store anything."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    twilio = TwilioHarness(stack.app.test_client())
    field_names = st.sampled_from(["Body", "From", "To", "MessageSid", "NumMedia", "MediaUrl0", "Latitude",
                                   "Longitude", "ButtonPayload", "ProfileName", "WaId", "Whatever"])
    values = st.one_of(st.text(max_size=300), st.sampled_from(["", "1", "whatsapp:+254711111111", "+254722222222",
                                                               "SM" + "a" * 32, "-91", "https://x"]))

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(fields=st.dictionaries(field_names, values, max_size=8), forge=st.booleans())
    def fuzz(fields: dict[str, str], forge: bool) -> None:
        from urllib.parse import urlencode

        form = {"From": "+254733333333", "To": "+254700999000", "MessageSid": "SM" + secrets.token_hex(16), **fields}
        body = urlencode(form)
        keys_before = {k for k in redis_db.scan_iter("lantern:*") if not k.startswith("lantern:iprate:")}
        response = twilio.post_raw(body, signature="Zm9yZ2Vk" if forge else None)
        assert response.status_code in (200, 400, 403, 413)  # type: ignore[attr-defined]
        if forge:
            assert response.status_code == 403  # type: ignore[attr-defined]
            keys_after = {k for k in redis_db.scan_iter("lantern:*") if not k.startswith("lantern:iprate:")}
            assert keys_after - keys_before == set()  # nothing stored (a key may expire meanwhile)

    fuzz()

