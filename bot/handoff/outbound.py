"""The one way Lantern sends a message first: through twilio's Client, never uninvited."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.conversation.people import People
from bot.core.settings import Settings
from bot.handoff.cases import CaseStore
from webhooks.twilio import adapter_for_channel

log = logging.getLogger(__name__)


class OutboundRefused(RuntimeError):
    """A message was not sent; the reason is safe to show to staff (code: for translating it)."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.code = code


class OutboundFailed(OutboundRefused):
    """Twilio could not be reached or refused the request: worth retrying later (a job does)."""


@dataclass(frozen=True)
class SentMessage:
    """A message Twilio accepted."""

    sid: str
    status: str


def twilio_client(settings: Settings) -> Client:
    """Build twilio's Client, pointed at the configured API base URL, with a timeout on every request."""
    http_client = TwilioHttpClient(timeout=settings.twilio_timeout_seconds)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
    client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


NOT_SAFE = ("The person said it is not safe to text them, or used the exit word: "
            "wait until they write again.")


class Outbound:
    """Send to people only inside the safe-contact window, and to on-call staff."""

    def __init__(self, settings: Settings, people: People, cases: CaseStore,
                 client_factory: Callable[[], Client] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.people = people
        self.cases = cases
        self.clock = clock
        self._client_factory = client_factory or (lambda: twilio_client(settings))
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """Return the Twilio client, created on first use."""
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def window_state(self, person: str, now: float | None = None) -> tuple[str, str]:
        """Return ("", "") when we may write to a person now, else a code and the reason.

        Nobody writes to a person who said it is not safe to text (their case says so) or who
        used the exit word, until they write again."""
        state = self.people.load(person)
        if state.opted_out:
            return "opted_out", "The person sent STOP: they must send START before we can write."
        if state.last_inbound is None:
            return "never_wrote", "The person has not written to us: Lantern never writes first."
        wrote_since_quiet = state.quiet_since is not None and state.last_inbound > state.quiet_since
        if state.quiet_since is not None and not wrote_since_quiet:
            return "unsafe", NOT_SAFE
        case = self.cases.current_for(person)
        if case is not None and case.safe_to_text == "no" and not wrote_since_quiet:
            return "unsafe", NOT_SAFE
        age = (now or self.clock()) - state.last_inbound
        if age > self.settings.safe_contact_window_seconds:
            hours = self.settings.safe_contact_window_seconds // 3600
            return "window_closed", f"The person last wrote over {hours} h ago: wait until they write again."
        return "", ""

    def window_open(self, person: str, now: float | None = None) -> tuple[bool, str]:
        """Say whether we may write to a person now, and if not, why."""
        code, reason = self.window_state(person, now)
        return not code, reason

    def send_to_person(self, person: str, number: str, channel: str, body: str) -> SentMessage:
        """Send a message to a person who wrote to us within the safe-contact window."""
        code, reason = self.window_state(person)
        if code:
            if self.cases.events is not None:  # counted for reports and /metrics (the code only)
                self.cases.events.record("outbound_refused", at=self.clock(), channel=channel, detail=code)
            raise OutboundRefused(reason, code)
        return self._send(channel, number, body)

    def send_to_staff(self, number: str, body: str) -> SentMessage:
        """Send an alert to an on-call staff phone listed in ONCALL_NUMBERS."""
        if number not in self.settings.oncall_numbers:
            raise OutboundRefused("Not an on-call number.")
        channel = "whatsapp" if number.startswith("whatsapp:") else "sms"
        return self._send(channel, number.removeprefix("whatsapp:"), body)

    def _send(self, channel: str, number: str, body: str) -> SentMessage:
        """Create the message at Twilio (the only call to messages.create in Lantern)."""
        adapter = adapter_for_channel(channel)
        sender = self.settings.twilio_whatsapp_from if channel == "whatsapp" else self.settings.twilio_sms_from
        if not sender:
            raise OutboundRefused(f"No Twilio sender configured for {channel}.")
        try:
            message = self.client.messages.create(
                to=adapter.address(number), from_=adapter.address(sender), body=adapter.prepare(body)
            )
        except (TwilioException, RequestException) as exc:
            log.warning("outbound failed", extra={"channel": channel, "error": type(exc).__name__})
            raise OutboundFailed("Twilio refused the message; try again later.") from exc
        log.info("outbound sent", extra={"channel": channel})
        return SentMessage(str(message.sid), str(message.status))
