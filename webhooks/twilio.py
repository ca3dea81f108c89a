"""Twilio Messaging webhooks for SMS and WhatsApp: signature check, parsing, TwiML."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.language.segments import GSM7_BASIC, GSM7_EXTENDED
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


GSM7_CHARACTERS = GSM7_BASIC | GSM7_EXTENDED
# Typographic punctuation and spaces with a GSM-7 equivalent.
_GSM_PUNCTUATION = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"',
                                  "\u00bb": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
                                  "\u00a0": " ", "\u202f": " "})
_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


def sms_text(text: str) -> str:
    """Return a reply as it should go by SMS (see without_emoji and gsm_letters)."""
    return gsm_letters(without_emoji(text))


def gsm_letters(text: str) -> str:
    """Write accented letters GSM-7 lacks (á, ã, ç, ê...) plainly, when that makes the whole
    text GSM-7: one such letter otherwise sends it as UCS-2, at 70 characters a part instead
    of 160. Texts in other scripts are left as they are."""
    if all(ch in GSM7_CHARACTERS for ch in text):
        return text
    folded = "".join(ch if ch in GSM7_CHARACTERS else _plain_letter(ch) for ch in text.translate(_GSM_PUNCTUATION))
    return folded if all(ch in GSM7_CHARACTERS for ch in folded) else text


def _plain_letter(ch: str) -> str:
    """Return a letter without its accent (ç -> c), or the character itself."""
    base = unicodedata.normalize("NFD", ch)[0]
    return base if base.isascii() else ch


def without_emoji(text: str) -> str:
    """Remove emoji and pictographs (and the spaces they leave) from a text."""
    kept = "".join(
        ch for ch in text
        if ch not in _EMOJI_JOINERS and unicodedata.category(ch) != "So" and not 0x1F3FB <= ord(ch) <= 0x1F3FF
    )
    lines = [re.sub(r" {2,}", " ", line).strip() for line in kept.split("\n")]
    return "\n".join(lines)


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
            response.message(self.prepare(text))
        return str(response)

    def prepare(self, text: str) -> str:
        """Make a reply cheap as SMS: no emoji, and plain letters for accents GSM-7 lacks."""
        return sms_text(text)


class TwilioWhatsAppAdapter(TwilioSmsAdapter):
    """WhatsApp through a Twilio WhatsApp sender (addresses prefixed 'whatsapp:')."""

    name = "whatsapp"

    def accepts(self, form: Mapping[str, str]) -> bool:
        """Accept forms whose sender is a WhatsApp address."""
        return form.get("From", "").startswith(WHATSAPP_PREFIX)

    def address(self, number: str) -> str:
        """Return the WhatsApp address for a phone number."""
        return WHATSAPP_PREFIX + number

    def prepare(self, text: str) -> str:
        """Keep emoji on WhatsApp, where messages are not split into paid segments."""
        return text


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
