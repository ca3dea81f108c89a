"""Render a numbered resource list in the person's language, within the SMS budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.services import Services
from bot.language.segments import count_segments
from bot.resources.directory import phone_digits

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


def _listing_lines(svc: Services, language: str, entries: list[dict[str, Any]], detail: int) -> list[str]:
    """Return the numbered lines for entries: 2 hours + facts, 1 hours only, 0 name and phone only."""
    lines = []
    for number, entry in enumerate(entries, 1):
        lines.append(f"{number} {entry['name']}: {entry['phone']}")  # no emoji: Latin lists stay GSM-7
        extra = _labels(svc, language, entry, with_facts=detail == 2)
        if detail >= 1 and entry.get("hours"):
            extra = f"{extra}, {entry['hours']}" if extra else str(entry["hours"])
        if extra and detail >= 1:
            lines.append(f"   {extra}")
    return lines


def _fit(candidates: list[str]) -> str:
    """Return the first candidate text within the segment budget, else the last (shortest)."""
    for text in candidates:
        if count_segments(text).segments <= TARGET_SEGMENTS:
            return text
    return candidates[-1]


def render_resource_list(
    svc: Services, language: str, entries: list[dict[str, Any]], more: bool, none_near: str = "",
    national: bool = False, footer_line: bool = True,
) -> str:
    """Return 'Places that can help: 1 name: phone, hours...' trimmed to fit the budget.

    With none_near (a place's name, or '-' for a pin) the list opens by saying plainly that
    nothing is listed near there, gives the hotline, then the country's national numbers;
    with national it is headed as the numbers for the whole country. Staff sending a resource
    leave out the footer (the bot's menu is paused while they own the chat)."""
    footer = [svc.render("resources_more" if more else "resources_last", language)] if footer_line else []
    if none_near:
        opening = (svc.render("resources_none_near", language, place=none_near) if none_near != "-"
                   else svc.render("resources_none_near_you", language))
        header = [opening] + ([svc.render("resources_national_header", language)] if entries else [])
    else:
        header = [svc.render("resources_national_header" if national else "resources_header", language)]
    return _fit(["\n".join(header + _listing_lines(svc, language, entries, detail) + footer)
                 for detail in (2, 1, 0)])


def render_listing(svc: Services, language: str, arguments: dict[str, Any]) -> str:
    """Render an utter_resources response from the action's arguments."""
    raw = arguments.get("entries")
    entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    return render_resource_list(svc, language, entries, bool(arguments.get("more")),
                                str(arguments.get("none_near") or ""), bool(arguments.get("national")))


def fits_budget(svc: Services, language: str) -> Callable[[str, dict[str, Any]], bool]:
    """Return a check that a resource list renders within the SMS budget in this language."""
    def fits(key: str, arguments: dict[str, Any]) -> bool:
        """Say whether the response fits in TARGET_SEGMENTS segments."""
        text = render_listing(svc, language, arguments) if key == "utter_resources" else svc.render(key, language)
        return count_segments(text).segments <= TARGET_SEGMENTS
    return fits


def resource_replies(
    svc: Services, language: str, response: str, arguments: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Return the messages for a lookup's answer: before 'Which town?', the country's national numbers
    (without the hotline when the question already gives it), each message within the budget."""
    entries = list(arguments.get("entries") or [])
    if response != "utter_ask_place" or not entries:
        return [(response, arguments)]
    hotline = phone_digits(svc.settings.hotline_number)
    if hotline and hotline in phone_digits(svc.render("utter_ask_place", language)):
        entries = [e for e in entries if phone_digits(str(e.get("phone", ""))) != hotline]
    fits = fits_budget(svc, language)
    while len(entries) > 1 and not fits("utter_resources", {"entries": entries, "national": True}):
        entries.pop()
    listing = [("utter_resources", {"entries": entries, "national": True, "more": False})] if entries else []
    return [*listing, ("utter_ask_place", {})]
