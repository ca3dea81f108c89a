"""Deterministic multilingual risk screen: the second, independent escalation signal."""

from __future__ import annotations

from dataclasses import dataclass

from bot.language.registry import LanguageRegistry
from bot.language.text import normalise

PRIORITY_ORDER = ("emergency", "urgent", "normal")


@dataclass(frozen=True)
class RiskFinding:
    """A risk the screen found: its priority and the language whose pattern matched."""

    priority: str
    language: str


def higher_priority(a: str | None, b: str | None) -> str | None:
    """Return the more severe of two priorities (None means no escalation)."""
    ranked = [p for p in (a, b) if p]
    return min(ranked, key=PRIORITY_ORDER.index) if ranked else None


def screen(
    registry: LanguageRegistry, text: str, preferred: str | None = None, detected: str | None = None
) -> RiskFinding | None:
    """Search every language's risk patterns; the finding's language is the one the message is in.

    Every language is scored (never "first match wins"): the person's own language when its
    patterns match, else the detected language when its patterns match, else the language
    with the most matching patterns.
    """
    folded = normalise(text)
    if not folded:
        return None
    hits: dict[str, int] = {}
    priority: str | None = None
    for language in registry.languages:
        for level in ("emergency", "urgent"):
            count = sum(1 for p in language.risk_patterns.get(level, ()) if p.search(folded))
            if count:
                hits[language.code] = hits.get(language.code, 0) + count
                priority = higher_priority(priority, level)
    if priority is None:
        return None
    for choice in (preferred, detected):
        if choice in hits:
            return RiskFinding(priority, str(choice))
    best = max(registry.languages, key=lambda lang: hits.get(lang.code, 0))
    return RiskFinding(priority, best.code)
