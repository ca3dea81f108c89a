"""The channel-neutral message and the interface every channel adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers


class MalformedRequest(ValueError):
    """The request is not a message this channel can understand (answered with 400)."""


@dataclass(frozen=True)
class Media:
    """One attachment: its URL at the provider and its content type."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Location:
    """A shared location pin."""

    latitude: float
    longitude: float
    address: str = ""
    label: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, whatever channel it came through."""

    channel: str
    sender: str
    recipient: str
    text: str
    message_id: str
    media: tuple[Media, ...] = ()
    location: Location | None = None
    button_text: str = ""
    button_payload: str = ""
    profile_name: str = field(default="", repr=False)

    @property
    def reply_text(self) -> str:
        """Return what the person meant: a button's payload or text, else the body."""
        return self.button_payload or self.button_text or self.text

    @property
    def sender_country(self) -> str:
        """Return the ISO country code of the sender's number ('' if unknown); never the number itself."""
        try:
            number = phonenumbers.parse(self.sender.removeprefix("whatsapp:"), None)
        except phonenumbers.NumberParseException:
            return ""
        return phonenumbers.region_code_for_number(number) or ""

    def transcript_text(self) -> str:
        """Describe the message for a transcript: its text, or what was attached."""
        parts = [self.reply_text] if self.reply_text else []
        parts += [f"[{m.content_type or 'attachment'}]" for m in self.media]
        if self.location:
            parts.append("[location shared]")
        return " ".join(parts) or "[empty message]"


class ChannelAdapter(ABC):
    """Receive a channel's webhook and write the channel's synchronous reply."""

    name: str = ""

    @abstractmethod
    def accepts(self, form: Mapping[str, str]) -> bool:
        """Say whether a webhook form belongs to this channel."""

    @abstractmethod
    def parse(self, form: Mapping[str, str]) -> InboundMessage:
        """Turn a verified webhook form into an InboundMessage or raise MalformedRequest."""

    @abstractmethod
    def render_reply(self, texts: list[str]) -> str:
        """Render the reply texts in the channel's response format."""

    def address(self, number: str) -> str:
        """Return the address to send to for a bare phone number on this channel."""
        return number

    def prepare(self, text: str) -> str:
        """Adapt a reply to what the channel carries well (the default: unchanged)."""
        return text
