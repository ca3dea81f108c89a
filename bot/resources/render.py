"""Render a numbered resource list in the person's language, within the SMS budget."""

from __future__ import annotations

from typing import Any

from bot.core.services import Services
from bot.language.segments import count_segments

TARGET_SEGMENTS = 2
FACT_LABELS = {"free": "fact_free", "confidential": "fact_confidential", "women_only": "fact_women_only",
               "accepts_children": "fact_children", "walk_in": "fact_walk_in"}


def _labels(svc: Services, language: str, entry: dict[str, Any], with_facts: bool) -> str:
    """Translate an entry's categories (and safety facts) into short labels."""
    labels = [svc.render(f"category_{c}", language) for c in entry.get("categories", [])[:2]]
    if with_facts:
        facts = entry.get("facts", {})
        labels += [svc.render(key, language) for fact, key in FACT_LABELS.items() if facts.get(fact)]
        if facts.get("reports_to_immigration") is False:
            labels.append(svc.render("fact_no_immigration", language))
    return ", ".join(labels)


def render_resource_list(
    svc: Services, language: str, entries: list[dict[str, Any]], more: bool, footer_line: bool = True
) -> str:
    """Return 'Places that can help: 1 name, phone, hours...' trimmed to fit the budget.

    Staff sending a resource leave out the footer (the bot's menu is paused while they own the chat)."""
    footer = svc.render("resources_more" if more else "resources_last", language)
    text = ""
    for detail in (2, 1, 0):  # 2: hours + facts, 1: hours only, 0: name and phone only
        lines = [svc.render("resources_header", language)]
        for number, entry in enumerate(entries, 1):
            lines.append(f"{number} {entry['name']} 📞 {entry['phone']}")
            extra = _labels(svc, language, entry, with_facts=detail == 2)
            if detail >= 1 and entry.get("hours"):
                extra = f"{extra} · {entry['hours']}" if extra else str(entry["hours"])
            if extra:
                lines.append(f"   {extra}")
        if footer_line:
            lines.append(footer)
        text = "\n".join(lines)
        if count_segments(text).segments <= TARGET_SEGMENTS:
            break
    return text
