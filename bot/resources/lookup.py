"""Answer a resource request: category and filters from words, place from text or pin."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from redis import Redis

from bot.core.settings import Settings
from bot.core.store import Keys
from bot.language.registry import LanguageRegistry
from bot.language.text import normalise
from bot.resources.directory import Directory, Region, load_directory
from bot.resources.index import DirectoryIndex
from bot.resources.places import match_place

PAGE = 3
PIN_DECIMALS = 2  # a kept pin is rounded to about 1 km: enough for "more results", not a doorstep


@dataclass
class ResourceDesk:
    """What a lookup needs: the directory index in Redis, regions and language words."""

    settings: Settings
    redis: Redis
    keys: Keys
    registry: LanguageRegistry
    index: DirectoryIndex
    regions: tuple[Region, ...] = ()
    version: str = ""

    def refresh(self) -> None:
        """Reload the directory into Redis when its files changed."""
        files = sorted(self.settings.resources_dir.glob("*.yml"))
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
        if digest == self.version:
            return
        directory: Directory = load_directory(self.settings.resources_dir)
        self.index.load(directory)
        self.regions, self.version = directory.regions, digest


def build_desk(settings: Settings, redis: Redis, keys: Keys, registry: LanguageRegistry) -> ResourceDesk:
    """Create the lookup desk from the shared services' parts."""
    return ResourceDesk(settings, redis, keys, registry, DirectoryIndex(redis, keys))


def words_for(registry: LanguageRegistry, text: str, section: str) -> list[str]:
    """Return the names (categories or filters) whose words appear in a message."""
    folded = f" {normalise(text)} "
    found: list[str] = []
    for language in registry.languages:
        table = language.resource_categories if section == "categories" else language.resource_filters
        for name, phrases in table.items():
            if name not in found and any(f" {phrase} " in folded for phrase in phrases):
                found.append(name)
    return found


def lookup(
    desk: ResourceDesk, person: str, text: str, metadata: dict[str, Any], more: bool
) -> tuple[str, dict[str, Any]]:
    """Choose the response (list, question or fallback) and its arguments for a request."""
    desk.refresh()
    key = desk.keys.resource_query(person)
    saved = desk.redis.hgetall(key)
    if more and saved.get("lat"):
        latitude, longitude = float(saved["lat"]), float(saved["lon"])
        category, filters = saved.get("category") or None, set(filter(None, saved.get("filters", "").split(",")))
        offset = int(saved.get("offset", "0")) + PAGE
    else:
        categories = words_for(desk.registry, text, "categories")
        category = categories[0] if categories else (saved.get("category") or None)
        filters = set(words_for(desk.registry, text, "filters")) or set(
            filter(None, saved.get("filters", "").split(","))
        )
        offset = 0
        place = match_place(desk.regions, text)
        if metadata.get("latitude") is not None and metadata.get("longitude") is not None:
            latitude, longitude = float(metadata["latitude"]), float(metadata["longitude"])
        elif place is not None:
            latitude, longitude = place.latitude, place.longitude
        elif saved.get("lat"):
            latitude, longitude = float(saved["lat"]), float(saved["lon"])
        else:
            asked = saved.get("asked") == "1"
            remember(desk, key, asked="1", category=category or "", filters=",".join(sorted(filters)))
            return ("utter_no_resources", {}) if asked else ("utter_ask_place", {})
    entries, has_more = desk.index.nearest(latitude, longitude, category, filters, offset, PAGE)
    if more and not entries and offset:  # past the last page: start the list again
        offset = 0
        entries, has_more = desk.index.nearest(latitude, longitude, category, filters, offset, PAGE)
    remember(desk, key, lat=str(round(latitude, PIN_DECIMALS)), lon=str(round(longitude, PIN_DECIMALS)),
             category=category or "",
             filters=",".join(sorted(filters)), offset=str(offset), asked="0")
    if not entries:
        return "utter_no_resources", {}
    return "utter_resources", {"entries": entries, "more": has_more, "first_number": 1}


def remember(desk: ResourceDesk, key: str, **values: str) -> None:
    """Store a person's last resource query (expires with their other data)."""
    pipe = desk.redis.pipeline()
    pipe.hset(key, mapping=values)
    pipe.expire(key, desk.settings.retention_seconds)
    pipe.execute()


def lookup_for_tracker(
    desk: ResourceDesk, person: str, latest_message: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Run a lookup for the action server from the tracker's latest message."""
    metadata = latest_message.get("metadata") or {}
    intent = (latest_message.get("intent") or {}).get("name")
    text = str(metadata.get("place_text") or latest_message.get("text") or "")
    if text.startswith("/"):
        text = ""
    return lookup(desk, person, text, metadata, more=intent == "more_resources")
