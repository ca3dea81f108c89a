"""Twilio Messaging webhooks for SMS and WhatsApp: signature check, parsing, TwiML."""

from __future__ import annotations

import re
from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from webhooks.base import ChannelAdapter, InboundMessage, Location, MalformedRequest, Media

WHATSAPP_PREFIX = "whatsapp:"
_E164 = re.compile(r"^\+?[1-9]\d{5,15}$")
_SID = re.compile(r"^[A-Z]{2}[A-Za-z0-9]{16,40}$")  # SM..., MM... (SMS, MMS, WhatsApp)
MAX_MEDIA = 10


def signature_is_valid(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Check X-Twilio-Signature with twilio's own RequestValidator."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, form, signature))


def _number(value: str, field: str) -> str:
    """Return a bare E.164 number from a Twilio address, or raise MalformedRequest."""
    bare = value.removeprefix(WHATSAPP_PREFIX).strip()
    if not _E164.match(bare):
        raise MalformedRequest(f"{field} is not a phone number")
    return bare if bare.startswith("+") else "+" + bare


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    """Read NumMedia / MediaUrlN / MediaContentTypeN."""
    raw_count = form.get("NumMedia", "0") or "0"
    if not raw_count.isdigit() or int(raw_count) > MAX_MEDIA:
        raise MalformedRequest("NumMedia is not a small number")
    items = []
    for index in range(int(raw_count)):
        url = form.get(f"MediaUrl{index}", "")
        if not url.startswith("https://"):
            raise MalformedRequest(f"MediaUrl{index} is missing or not https")
        items.append(Media(url, form.get(f"MediaContentType{index}", "")))
    return tuple(items)


def _location(form: Mapping[str, str]) -> Location | None:
    """Read a WhatsApp location pin (Latitude/Longitude/Address/Label)."""
    lat, lon = form.get("Latitude"), form.get("Longitude")
    if not lat and not lon:
        return None
    try:
        latitude, longitude = float(lat or ""), float(lon or "")
    except ValueError as exc:
        raise MalformedRequest("Latitude/Longitude are not numbers") from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise MalformedRequest("Latitude/Longitude out of range")
    return Location(latitude, longitude, form.get("Address", ""), form.get("Label", ""))


class TwilioSmsAdapter(ChannelAdapter):
    """Plain SMS through a Twilio phone number."""

    name = "sms"

    def accepts(self, form: Mapping[str, str]) -> bool:
        """Accept any Twilio form whose sender is not a WhatsApp address."""
        return not form.get("From", "").startswith(WHATSAPP_PREFIX)

    def parse(self, form: Mapping[str, str]) -> InboundMessage:
        """Parse a Twilio Messaging webhook form."""
        message_id = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        if not _SID.match(message_id):
            raise MalformedRequest("MessageSid is missing or malformed")
        body = form.get("Body", "")
        if len(body) > 4096:
            raise MalformedRequest("Body is too long")
        return InboundMessage(
            channel=self.name,
            sender=_number(form.get("From", ""), "From"),
            recipient=_number(form.get("To", ""), "To"),
            text=body.strip(),
            message_id=message_id,
            media=_media(form),
            location=_location(form),
            button_text=form.get("ButtonText", "").strip(),
            button_payload=form.get("ButtonPayload", "").strip(),
            profile_name=form.get("ProfileName", ""),
        )

    def render_reply(self, texts: list[str]) -> str:
        """Render replies as TwiML <Response><Message>...</Message></Response>."""
        response = MessagingResponse()
        for text in texts:
            response.message(text)
        return str(response)


class TwilioWhatsAppAdapter(TwilioSmsAdapter):
    """WhatsApp through a Twilio WhatsApp sender (addresses prefixed 'whatsapp:')."""

    name = "whatsapp"

    def accepts(self, form: Mapping[str, str]) -> bool:
        """Accept forms whose sender is a WhatsApp address."""
        return form.get("From", "").startswith(WHATSAPP_PREFIX)

    def address(self, number: str) -> str:
        """Return the WhatsApp address for a phone number."""
        return WHATSAPP_PREFIX + number


TWILIO_ADAPTERS: tuple[ChannelAdapter, ...] = (TwilioWhatsAppAdapter(), TwilioSmsAdapter())


def adapter_for_channel(channel: str) -> ChannelAdapter:
    """Return the adapter for a channel name."""
    for adapter in TWILIO_ADAPTERS:
        if adapter.name == channel:
            return adapter
    raise KeyError(channel)


def adapter_for_form(form: Mapping[str, str]) -> ChannelAdapter:
    """Return the adapter that accepts a Twilio webhook form."""
    for adapter in TWILIO_ADAPTERS:
        if adapter.accepts(form):
            return adapter
    raise MalformedRequest("no channel accepts this request")
