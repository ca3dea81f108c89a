"""Terminal simulator: text the running gateway as a phone would, signed like Twilio."""

from __future__ import annotations

import argparse
import secrets
import sys
import xml.etree.ElementTree as ET

import requests
from twilio.request_validator import RequestValidator

from bot.core.settings import Settings


def twilio_form(sender: str, recipient: str, body: str, whatsapp: bool) -> dict[str, str]:
    """Build the form Twilio posts for an inbound message."""
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "ToCountry": "KE", "SmsMessageSid": "", "NumMedia": "0", "SmsSid": "", "SmsStatus": "received",
        "Body": body, "To": prefix + recipient, "NumSegments": "1", "From": prefix + sender,
        "ApiVersion": "2010-04-01", "AccountSid": "AC" + "0" * 32,
    }
    sid = "SM" + secrets.token_hex(16)
    form.update(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    if whatsapp:
        form.update(ProfileName="Chat simulator", WaId=sender.lstrip("+"))
    return form


def send(settings: Settings, gateway: str, form: dict[str, str]) -> list[str]:
    """Sign and post a form to the gateway; return the reply texts from the TwiML."""
    url = settings.public_url.rstrip("/") + "/webhooks/twilio"
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, form)
    response = requests.post(gateway.rstrip("/") + "/webhooks/twilio", data=form,
                             headers={"X-Twilio-Signature": signature}, timeout=20)
    if response.status_code != 200:
        return [f"[HTTP {response.status_code}] {response.text[:200]}"]
    return [m.text or "" for m in ET.fromstring(response.text).iter("Message")]


def main(argv: list[str] | None = None) -> int:
    """Read lines from the terminal, send each as a message and print the replies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", default="+254700000123", help="the phone number you text from")
    parser.add_argument("--whatsapp", action="store_true", help="text as a WhatsApp user")
    parser.add_argument("--gateway", default="http://127.0.0.1:5000", help="where the gateway listens")
    parser.add_argument("--to", default="+254700999000", help="the Lantern number you text")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    channel = "WhatsApp" if args.whatsapp else "SMS"
    print(f"Texting Lantern by {channel} as {args.number}. Type a message; Ctrl-D to quit.")
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("you> "), None):
        if not line.strip():
            continue
        try:
            replies = send(settings, args.gateway, twilio_form(args.number, args.to, line.rstrip("\n"), args.whatsapp))
        except requests.RequestException as exc:
            print(f"[gateway unreachable: {type(exc).__name__}; is `make run` running?]")
            continue
        for reply in replies or ["(no reply)"]:
            print(f"lantern> {reply}\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, KeyboardInterrupt):
        print()
