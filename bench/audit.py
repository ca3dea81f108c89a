"""`make audit`: run a scripted conversation, then scan Redis and every log for personal data."""

from __future__ import annotations

import secrets
import sys

import requests
from redis import Redis
from twilio.request_validator import RequestValidator

from bench.common import BENCH_REDIS_URL, running_stack
from bot.tools.privacy_audit import keys_without_ttl, secrets_in_logs, secrets_in_redis

SCRIPT = ["hello", "1", "1", "0", "2", "2", "Mombasa", "4",
          "my boss took my passport and locks the door at night", "1", "he is angry with me today"]


def main() -> int:
    """Print what the scans found; exit 1 if anything personal leaked."""
    number = f"+2547{secrets.randbelow(10**8):08d}"
    with running_stack(log_level="INFO") as stack:
        url = stack.settings.public_url + "/webhooks/twilio"
        validator = RequestValidator(stack.settings.twilio_auth_token)
        for text in SCRIPT + ["Amina here"]:
            form = {"From": f"whatsapp:{number}", "To": "whatsapp:+14155238886", "Body": text,
                    "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0", "ProfileName": "Amina Wanjiru"}
            requests.post(url, data=form, headers={"X-Twilio-Signature": validator.compute_signature(url, form)},
                          timeout=30).raise_for_status()
        redis = Redis.from_url(BENCH_REDIS_URL, decode_responses=True)
        prefix = stack.settings.redis_key_prefix
        keys = list(redis.scan_iter(f"{prefix}*"))
        findings = keys_without_ttl(redis, prefix)
        findings += secrets_in_redis(redis, prefix, number, ["passport", "angry", "Wanjiru"])
        logged = "".join("".join(child.lines) for child in stack.children)
        findings += secrets_in_logs(logged, [number, number.lstrip("+"), "passport", "angry", "Wanjiru", "Mombasa"])
    print(f"Scripted conversation: {len(SCRIPT) + 1} messages from one WhatsApp number.")
    print(f"Redis: {len(keys)} keys under '{prefix}' scanned (TTL, phone number, clear text).")
    print(f"Logs: {len(logged.splitlines())} lines from gateway, Rasa and the action server scanned.")
    for finding in findings:
        print(f"  FOUND: {finding}")
    print("No personal data found." if not findings else f"{len(findings)} finding(s).")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
