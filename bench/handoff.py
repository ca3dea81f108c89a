"""Time from an inbound risk message to the case event at a connected console client."""

from __future__ import annotations

import json
import secrets
import threading
import time

import requests
from twilio.request_validator import RequestValidator

from bench.common import running_stack, summary, write_result
from bot.core.database import Database
from bot.core.store import Keys, connect
from bot.staff.accounts import Accounts

ROUNDS = 30


def main() -> None:
    """Log a console client in, listen to /staff/events, send risk messages, time each case."""
    with running_stack() as stack:
        settings = stack.settings
        password = secrets.token_urlsafe(16)
        Accounts(Database(settings.database_url), connect(settings.redis_url),
                 Keys(settings.redis_key_prefix, settings.rasa_key_prefix)).create("bench", password, "staff")
        console = requests.Session()
        console.post(f"{stack.gateway_url}/staff/login", data={"username": "bench", "password": password})
        arrived: dict[str, float] = {}
        ready = threading.Event()

        def listen() -> None:
            with console.get(f"{stack.gateway_url}/staff/events", stream=True, timeout=120) as stream:
                for line in stream.iter_lines(decode_unicode=True):
                    ready.set()
                    if line and line.startswith("data: "):
                        event = json.loads(line[6:])
                        if event["event"] == "opened":
                            arrived.setdefault(event["case"]["id"], time.perf_counter())

        threading.Thread(target=listen, daemon=True).start()
        ready.wait(10)
        validator = RequestValidator(settings.twilio_auth_token)
        url = settings.public_url + "/webhooks/twilio"
        sent: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            form = {"From": f"+2547{secrets.randbelow(10**8):08d}", "To": "+254700999000",
                    "Body": "my boss took my passport and locks the door at night",
                    "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0"}
            before = set(arrived)
            started = time.perf_counter()
            response = requests.post(url, data=form, headers={"X-Twilio-Signature": validator.compute_signature(
                url, form)}, timeout=30)
            replied = time.perf_counter()
            assert response.status_code == 200
            deadline = time.time() + 10
            while set(arrived) == before and time.time() < deadline:
                time.sleep(0.001)
            new = set(arrived) - before
            assert new, "no console event"
            sent.append(((arrived[new.pop()] - started) * 1000, (replied - started) * 1000))
    visible = [v for v, _ in sent]
    replies = [r for _, r in sent]
    report = f"""# Handoff benchmark

{ROUNDS} risk messages ("my boss took my passport and locks the door at night"), one at a
time, through the real stack (gunicorn gateway, Rasa, Redis pub/sub), one run
({time.strftime('%Y-%m-%d %H:%M')}). Measured at a logged-in console client connected to
/staff/events (server-sent events).

| from inbound message to | latency |
|---|---|
| case visible at the console client | {summary(visible)} |
| the person's first reply (TwiML) | {summary(replies)} |
"""
    write_result("handoff.md", report)


if __name__ == "__main__":
    main()
