"""Table-driven webhook tests with raw Twilio payloads; the harness adds negative cases."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest
from redis import Redis

from tests.conftest import PUBLIC_URL, Pipeline, TwilioHarness, new_number, replies

ACCOUNT = "AC" + "1" * 32
SMS = ("ToCountry=KE&ToState=&SmsMessageSid={sid}&NumMedia=0&ToCity=&FromZip=&SmsSid={sid}&FromState=&"
       "SmsStatus=received&FromCity=&Body={body}&FromCountry=KE&To=%2B254700999000&ToZip=&NumSegments=1&"
       "MessageSid={sid}&AccountSid=" + ACCOUNT + "&From={sender}&ApiVersion=2010-04-01")
WHATSAPP = ("SmsMessageSid={sid}&NumMedia=0&ProfileName=Amina&MessageType=text&SmsSid={sid}&WaId={waid}&"
            "SmsStatus=received&Body={body}&To=whatsapp%3A%2B14155238886&NumSegments=1&ReferralNumMedia=0&"
            "MessageSid={sid}&AccountSid=" + ACCOUNT + "&From=whatsapp%3A{sender}&ApiVersion=2010-04-01")
MEDIA = ("MediaContentType0=image%2Fjpeg&SmsMessageSid={sid}&NumMedia=1&ProfileName=Amina&MessageType=image&"
         "SmsSid={sid}&WaId={waid}&SmsStatus=received&Body=&To=whatsapp%3A%2B14155238886&NumSegments=1&"
         "ReferralNumMedia=0&MessageSid={sid}&AccountSid=" + ACCOUNT + "&From=whatsapp%3A{sender}&"
         "MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F" + ACCOUNT + "%2FMessages%2F{sid}%2F"
         "Media%2FME0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01")
LOCATION = ("Latitude=-4.0435&Longitude=39.6682&Address=Moi+Avenue%2C+Mombasa&Label=Work&SmsMessageSid={sid}&"
            "NumMedia=0&ProfileName=Amina&MessageType=location&SmsSid={sid}&WaId={waid}&SmsStatus=received&Body=&"
            "To=whatsapp%3A%2B14155238886&NumSegments=1&ReferralNumMedia=0&MessageSid={sid}&AccountSid="
            + ACCOUNT + "&From=whatsapp%3A{sender}&ApiVersion=2010-04-01")
BUTTON = ("SmsMessageSid={sid}&NumMedia=0&ProfileName=Amina&MessageType=button&ButtonText=Warning+signs&"
          "ButtonPayload=1&SmsSid={sid}&WaId={waid}&SmsStatus=received&Body=Warning+signs&"
          "To=whatsapp%3A%2B14155238886&NumSegments=1&MessageSid={sid}&AccountSid=" + ACCOUNT +
          "&From=whatsapp%3A{sender}&OriginalRepliedMessageSid=SM00000000000000000000000000000001&"
          "ApiVersion=2010-04-01")
EXTRA = SMS + "&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&ChannelMetadata=%7B%22x%22%3A1%7D&NewField=ok"
NO_BODY = SMS.replace("Body={body}&", "")

# (name, raw form template, body) -> every row must get 200 and at least one reply.
ACCEPTED = [
    ("sms text", SMS, "Hello there my friend"),
    ("whatsapp text", WHATSAPP, "Hello, what are the signs of trafficking?"),
    ("whatsapp media", MEDIA, ""),
    ("whatsapp location", LOCATION, ""),
    ("whatsapp button reply", BUTTON, ""),
    ("extra unknown fields", EXTRA, "hi"),
    ("missing Body", NO_BODY, ""),
    ("empty Body", SMS, ""),
    ("arabic text", SMS, "مرحبا أريد مساعدة في العمل"),
]

# (name, raw form) -> signed correctly but malformed: 400.
MALFORMED = [
    ("no From", SMS.replace("&From={sender}", "")),
    ("no MessageSid", SMS.replace("MessageSid={sid}&", "").replace("SmsMessageSid={sid}&", "").replace(
        "SmsSid={sid}&", "")),
    ("From not a number", SMS.replace("From={sender}", "From=hello")),
    ("NumMedia not a number", SMS.replace("NumMedia=0", "NumMedia=lots")),
    ("media without URL", SMS.replace("NumMedia=0", "NumMedia=1")),
    ("latitude not a number", LOCATION.replace("Latitude=-4.0435", "Latitude=north")),
]


def fill(template: str, body: str = "") -> tuple[str, str]:
    """Fill a raw form template with a fresh sender and MessageSid."""
    sender = new_number()
    sid = "SM" + secrets.token_hex(16)
    raw = template.format(sid=sid, sender=quote(sender), waid=sender.lstrip("+"), body=quote(body))
    return raw, sender


def stored_besides_flood_counters(redis: Redis, keys_before: set[str]) -> set[str]:
    """Keys that appeared since keys_before, except the per-address flood counters: those count
    every request, forged ones included, and a new one starts with each time window."""
    return {key for key in set(redis.keys()) - keys_before if ":iprate:" not in key}


def tracker_turns(redis: Redis, stack_settings: object, twilio: TwilioHarness, sender: str) -> int:
    """Count user turns Rasa stored for a sender (0 when none); the tracker is stored encrypted."""
    import json

    from bot.core.identity import Vault, sender_key

    raw = redis.get(f"lantern:tracker:{sender_key('test-hash-key', sender)}")
    if not raw:
        return 0
    events = json.loads(Vault((), "test-secret-key").decrypt(raw)).get("events", [])
    return sum(1 for e in events if e.get("event") == "user")


@pytest.mark.stack
@pytest.mark.parametrize(("name", "template", "body"), ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_accepted_payloads(twilio: TwilioHarness, redis_db: Redis, name: str, template: str, body: str) -> None:
    """Every real Twilio payload gets 200 and a TwiML reply; bad signature and replay are handled."""
    raw, sender = fill(template, body)
    keys_before = set(redis_db.keys())
    forged = twilio.post_raw(raw, signature="dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=")
    assert forged.status_code == 403  # type: ignore[attr-defined]
    assert twilio.post_raw(raw, signature="").status_code == 403  # type: ignore[attr-defined]
    assert stored_besides_flood_counters(redis_db, keys_before) == set(), "a forged request stored something"

    response = twilio.post_raw(raw)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.content_type.startswith("application/xml")  # type: ignore[attr-defined]
    first = replies(response.data.decode())  # type: ignore[attr-defined]
    assert first and all(text.strip() for text in first)
    turns = tracker_turns(redis_db, None, twilio, sender)

    replay = twilio.post_raw(raw)
    assert replay.status_code == 200  # type: ignore[attr-defined]
    assert replies(replay.data.decode()) == []  # type: ignore[attr-defined]
    assert tracker_turns(redis_db, None, twilio, sender) == turns, "a replay made a second Rasa turn"


@pytest.mark.parametrize(("name", "template"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_malformed_payloads(gateway: TwilioHarness, pipeline: Pipeline, name: str, template: str) -> None:
    """A correctly signed but malformed request gets 400 and stores nothing; forged still 403."""
    raw, _ = fill(template, "hello")
    keys_before = set(pipeline.redis.keys())
    assert gateway.post_raw(raw, signature="bm9wZQ==").status_code == 403  # type: ignore[attr-defined]
    assert gateway.post_raw(raw).status_code == 400  # type: ignore[attr-defined]
    assert stored_besides_flood_counters(pipeline.redis, keys_before) == set()


@pytest.mark.parametrize(
    ("signed_url", "path"),
    [
        (PUBLIC_URL + "/webhooks/twilio", "/webhooks/twilio"),
        (PUBLIC_URL.replace(".org", ".org:443") + "/webhooks/twilio", "/webhooks/twilio"),
        (PUBLIC_URL + "/webhooks/twilio?channel=sms&v=2", "/webhooks/twilio?channel=sms&v=2"),
    ],
    ids=["plain", "with :443", "query string"],
)
def test_signature_url_forms(gateway: TwilioHarness, signed_url: str, path: str) -> None:
    """Signatures made behind a TLS proxy (with or without :443, with a query) are accepted."""
    raw, _ = fill(SMS, "hello")
    assert gateway.post_raw(raw, path=path, sign_url=signed_url).status_code == 200  # type: ignore[attr-defined]


def test_wrong_content_type_is_400(gateway: TwilioHarness) -> None:
    """A JSON body is not a Twilio webhook."""
    response = gateway.client.post("/webhooks/twilio", json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 400


def test_oversized_body_is_refused(gateway: TwilioHarness) -> None:
    """Bodies over MAX_BODY_BYTES are refused before parsing."""
    raw, _ = fill(SMS, "x" * 70_000)
    assert gateway.post_raw(raw).status_code == 413  # type: ignore[attr-defined]
