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


def screen(registry: LanguageRegistry, text: str, preferred: str | None = None) -> RiskFinding | None:
    """Search every language's risk patterns; prefer the person's own language on ties."""
    folded = normalise(text)
    if not folded:
        return None
    order = sorted(registry.languages, key=lambda lang: lang.code != preferred)
    for priority in ("emergency", "urgent"):
        for language in order:
            if any(p.search(folded) for p in language.risk_patterns.get(priority, ())):
                return RiskFinding(priority, language.code)
    return None
