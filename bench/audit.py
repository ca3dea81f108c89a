"""`make audit`: run a scripted conversation (pin, typed place, risk, handoff, delete), then scan
Redis (Rasa's encrypted trackers included) and every log for personal data."""

from __future__ import annotations

import secrets
import sys

import requests
from redis import Redis
from twilio.request_validator import RequestValidator

from bench.common import BENCH_REDIS_URL, running_stack
from bot.core.database import Database
from bot.core.identity import sender_key
from bot.tools.privacy_audit import keys_without_ttl, secrets_in_database, secrets_in_logs, secrets_in_redis

PIN = {"Latitude": "-4.043512", "Longitude": "39.668234"}
# What the person sends: "[pin]" shares a WhatsApp location; DELETE comes last (after the scan of
# what a conversation leaves, a second scan checks that nothing about the person is left).
SCRIPT = ["hello", "1", "1", "0", "2", "2", "Mombasa", "[pin]", "4",
          "my boss took my passport and locks the door at night", "1", "he is angry with me today"]
WORDS = ["passport", "angry", "Wanjiru", "Mombasa", "4.043512", "39.668234", "4.0435", "39.6682"]


def send(stack_url: str, validator: RequestValidator, number: str, text: str) -> None:
    """Send one signed WhatsApp message (or a location pin) as the person."""
    form = {"From": f"whatsapp:{number}", "To": "whatsapp:+14155238886", "Body": "" if text == "[pin]" else text,
            "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0", "ProfileName": "Amina Wanjiru",
            **(PIN if text == "[pin]" else {})}
    requests.post(stack_url, data=form, headers={"X-Twilio-Signature": validator.compute_signature(stack_url, form)},
                  timeout=30).raise_for_status()


def main() -> int:
    """Print what the scans found; exit 1 if anything personal leaked."""
    number = f"+2547{secrets.randbelow(10**8):08d}"
    with running_stack(log_level="INFO") as stack:
        url = stack.settings.public_url + "/webhooks/twilio"
        validator = RequestValidator(stack.settings.twilio_auth_token)
        for text in SCRIPT + ["Amina here"]:
            send(url, validator, number, text)
        redis = Redis.from_url(BENCH_REDIS_URL, decode_responses=True)
        prefix = stack.settings.redis_key_prefix
        keys = list(redis.scan_iter(f"{prefix}*"))
        trackers = [key for key in keys if ":tracker:" in key]
        findings = keys_without_ttl(redis, prefix)
        findings += secrets_in_redis(redis, prefix, number, WORDS)
        findings += secrets_in_database(Database(stack.settings.database_url), number, WORDS)
        send(url, validator, number, "DELETE")
        person = sender_key(stack.settings.sender_hash_key, number)
        findings += [f"left after DELETE: {key}" for key in redis.scan_iter("*") if person in key]
        logged = "".join("".join(child.lines) for child in stack.children)
        findings += secrets_in_logs(logged, [number, number.lstrip("+"), *WORDS])
    print(f"Scripted conversation: {len(SCRIPT) + 2} messages from one WhatsApp number (pin, typed place, "
          "risk, handoff, DELETE).")
    print(f"Redis: {len(keys)} keys under '{prefix}' scanned, {len(trackers)} of them Rasa trackers "
          "(TTL, phone number, clear text, exact pin); then every key after DELETE.")
    print(f"Logs: {len(logged.splitlines())} lines from gateway, Rasa and the action server scanned.")
    for finding in findings:
        print(f"  FOUND: {finding}")
    print("No personal data found." if not findings else f"{len(findings)} finding(s).")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
