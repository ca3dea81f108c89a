"""Canned replies for staff: short, translated sentences inserted in the person's language.

The English source is here; translations live in locales/<lang>/LC_MESSAGES/canned.po
(`make catalogs` extracts them), one msgctxt per reply, like the bot's own messages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.support import NullTranslations

from bot.core.services import Services
from bot.language.catalogs import load_translations

DOMAIN = "canned"


def canned(key: str, text: str) -> tuple[str, str]:
    """Mark a canned reply for extraction (msgctxt = key)."""
    return key, text


SOURCE: dict[str, str] = dict(
    [
        canned("greeting", "Hello, I am from the help line team. I am here to listen and help you. What is happening?"),
        canned("still_there", "Are you still there? Reply when it is safe for you."),
        canned(
            "safety_planning",
            "Let us plan together how to keep you safe. Is there a safe place you can go? "
            "If you are in danger, call {emergency}. Help line: {hotline}.",
        ),
        canned(
            "closing",
            "Thank you for writing to us. We are closing this chat now. You can write again at any time. "
            "Help line: {hotline}.",
        ),
        canned("referral_intro", "Here is a place that can help you. You can contact them directly:"),
    ]
)


@dataclass(frozen=True)
class CannedReply:
    """One canned reply: its key, the text in the person's language and in English."""

    key: str
    text: str
    english: str


@cache
def _translations(locales_dir: Path, language: str) -> NullTranslations:
    """Load (once) a language's canned-reply catalog."""
    return load_translations(locales_dir, language, DOMAIN)


def _fill(svc: Services, language: str, text: str) -> str:
    """Fill the hotline and emergency numbers, kept left-to-right inside right-to-left text."""
    numbers = {"hotline": svc.settings.hotline_number, "emergency": svc.settings.emergency_number}
    if svc.registry.get(language).direction == "rtl":
        numbers = {k: f"\u2066{v}\u2069" for k, v in numbers.items()}
    return text.format_map(numbers)


def canned_replies(svc: Services, language: str) -> list[CannedReply]:
    """Return every canned reply in a person's language, with the English beside it."""
    translations = _translations(svc.settings.locales_dir, language)
    return [
        CannedReply(key, _fill(svc, language, str(translations.pgettext(key, english))), _fill(svc, "en", english))
        for key, english in SOURCE.items()
    ]
