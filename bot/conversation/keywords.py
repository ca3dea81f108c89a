"""Localized command keywords (STOP, START, HELP, DELETE, EXIT, LANGUAGE, MENU)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.language.registry import KEYWORD_ACTIONS, LanguageRegistry
from bot.language.text import normalise


@dataclass(frozen=True)
class KeywordMatch:
    """A message that is a command keyword, and the language the keyword belongs to."""

    action: str
    language: str


def match_keyword(registry: LanguageRegistry, text: str, preferred: str | None = None) -> KeywordMatch | None:
    """Return the command a whole message spells, checking the person's language first."""
    folded = normalise(text)
    if not folded:
        return None
    order = sorted(registry.languages, key=lambda lang: lang.code != preferred)
    for action in KEYWORD_ACTIONS:
        for language in order:
            if folded in language.keywords.get(action, ()):
                return KeywordMatch(action, language.code)
    return None
