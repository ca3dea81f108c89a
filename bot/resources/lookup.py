"""Answer a resource request: category and filters from words, place from text, pin or the texter's country."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from redis import Redis

from bot.core.settings import Settings
from bot.core.store import Keys
from bot.language.nlu_data import read_nlu_file
from bot.language.registry import LanguageRegistry
from bot.language.text import normalise
from bot.resources.directory import Directory, load_directory, phone_digits
from bot.resources.gazetteer import Gazetteer
from bot.resources.index import DirectoryIndex
from bot.resources.places import Mention, PlaceFinder, word_forms

PAGE = 3
PIN_DECIMALS = 2  # a kept pin is rounded to about 1 km: enough for "more results", not a doorstep
# Whether a response with these arguments fits the SMS budget (the action server renders to check).
Fits = Callable[[str, dict[str, Any]], bool]


@lru_cache(maxsize=2)
def shared_gazetteer(intents_dir: Path) -> Gazetteer:
    """Load the gazetteer once per process; words from our NLU examples are not taken for small towns."""
    common: set[str] = set()
    for path in sorted(intents_dir.glob("*/nlu.yml")):
        for _, text in read_nlu_file(path):
            common.update(normalise(text).split())
    return Gazetteer.load(common)


@dataclass
class ResourceDesk:
    """What a lookup needs: the directory index in Redis, the place finder and language words."""

    settings: Settings
    redis: Redis
    keys: Keys
    registry: LanguageRegistry
    index: DirectoryIndex
    directory: Directory = field(default_factory=lambda: Directory((), ()))
    version: str = ""
    _finder: PlaceFinder | None = None

    def refresh(self) -> None:
        """Load the directory into Redis when its files changed or Redis lost it (a flush, a restart)."""
        files = sorted(self.settings.resources_dir.glob("*.yml"))
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
        if digest == self.version and self.index.loaded_version() == digest:
            return
        if digest != self.version:
            self.directory, self._finder = load_directory(self.settings.resources_dir), None
        self.index.load(self.directory, digest)
        self.version = digest

    @property
    def finder(self) -> PlaceFinder:
        """Return the place finder over the gazetteer and the directory's own regions."""
        if self._finder is None:
            self._finder = PlaceFinder.build(shared_gazetteer(self.settings.intents_dir), self.directory.regions)
        return self._finder


def build_desk(settings: Settings, redis: Redis, keys: Keys, registry: LanguageRegistry) -> ResourceDesk:
    """Create the lookup desk from the shared services' parts."""
    return ResourceDesk(settings, redis, keys, registry, DirectoryIndex(redis, keys))


def words_for(registry: LanguageRegistry, text: str, section: str) -> list[str]:
    """Return the names (categories or filters) whose words appear in a message, also with a case
    ending written on ("दूतावासको" is "दूतावास" + "of")."""
    tokens = normalise(text).split()
    variants = (f" {' '.join(tokens)} ", f" {' '.join(word_forms(t)[-1] for t in tokens)} ")
    found: list[str] = []
    for language in registry.languages:
        table = language.resource_categories if section == "categories" else language.resource_filters
        for name, phrases in table.items():
            if name not in found and any(f" {phrase} " in v for phrase in phrases for v in variants):
                found.append(name)
    return found


@dataclass
class Query:
    """What a person asked for and where (kept between pages)."""

    kind: str  # "pin", "town", "country" (a country named), "home" (the texter's own country)
    country: str
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    category: str = ""
    filters: list[str] = field(default_factory=list)
    represents: str = ""
    offset: int = 0
    shown: int = 0


def place_query(desk: ResourceDesk, text: str, metadata: dict[str, Any], category: str) -> Query | None:
    """Return where the person asks about: a pin, a town or a country they named (None: no place)."""
    texter_country = str(metadata.get("country") or "")
    if metadata.get("latitude") is not None and metadata.get("longitude") is not None:
        latitude, longitude = float(metadata["latitude"]), float(metadata["longitude"])
        country = desk.finder.gazetteer.nearest_country(latitude, longitude)
        return Query("pin", country, "", latitude, longitude)
    towns = desk.finder.towns(text, texter_country)
    countries = desk.finder.countries(text)
    represents = ""
    if category == "embassy":
        towns = [t for t in towns if not any(t.overlaps(c) for c in countries)]
        others = [c for c in countries if not towns or c.place.country != towns[0].place.country]
        represents = others[0].place.country if others else ""
        countries = [c for c in countries if c.place.country != represents]
    chosen: Mention | None = towns[0] if towns else (countries[0] if countries else None)
    if chosen is None:
        return Query("none", "", represents=represents) if represents else None
    place = chosen.place
    return Query("town" if place.kind == "town" else "country", place.country, place.name, place.latitude,
                 place.longitude, represents=represents)


def lookup(
    desk: ResourceDesk, person: str, text: str, metadata: dict[str, Any], more: bool, fits: Fits | None = None
) -> tuple[str, dict[str, Any]]:
    """Choose the response (list, honest 'none near', question or fallback) and its arguments."""
    desk.refresh()
    key = desk.keys.resource_query(person)
    saved_fields = desk.redis.hgetall(key)
    saved = Query(**json.loads(saved_fields["query"])) if saved_fields.get("query") else None
    if more and saved is not None:
        query = replace(saved, offset=saved.offset + saved.shown)
    else:
        categories = words_for(desk.registry, text, "categories")
        category = categories[0] if categories else (saved.category if saved else "")
        filters = sorted(set(words_for(desk.registry, text, "filters")) or set(saved.filters if saved else ()))
        found = place_query(desk, text, metadata, category)
        if found is not None and found.kind == "none":  # "embassy of X" with no place: keep the old place
            found = replace(saved, represents=found.represents) if saved and saved.kind != "home" else None
        if found is None and saved is not None and saved.kind != "home":
            found = saved
        if found is None:
            return ask_for_place(desk, key, str(metadata.get("country") or ""), category, filters,
                                 asked=saved_fields.get("asked") == "1")
        query = replace(found, category=category, filters=filters, offset=0,
                        represents=found.represents if category == "embassy" else "")
    entries, none_near = find_entries(desk, query)
    if more and query.offset >= len(entries):  # past the last page: start the list again
        query.offset = 0
    response, arguments = page_of(query, entries, none_near, fits)
    remember(desk, key, query=json.dumps(asdict(kept(query))), asked="0")
    return response, arguments


def looked_up(desk: ResourceDesk, person: str) -> str:
    """Return what a person's last lookup was for, as 'category/country' (for reports; no place)."""
    saved = desk.redis.hget(desk.keys.resource_query(person), "query")
    query = Query(**json.loads(saved)) if saved else None
    return f"{query.category or 'any'}/{query.country or '-'}" if query else "any/-"


def kept(query: Query) -> Query:
    """Return the query as it may be stored: a shared pin rounded to about a kilometre."""
    if query.kind != "pin" or query.latitude is None or query.longitude is None:
        return query
    return replace(query, latitude=round(query.latitude, PIN_DECIMALS), longitude=round(query.longitude, PIN_DECIMALS))


def find_entries(desk: ResourceDesk, query: Query) -> tuple[list[dict[str, Any]], bool]:
    """Return the matching entries (local within reach, then national), or the national ones and True."""
    category, filters = query.category or None, set(query.filters)
    local: list[dict[str, Any]] = []
    if query.kind in ("pin", "town") and query.latitude is not None and query.longitude is not None:
        local = desk.index.nearest(query.latitude, query.longitude, category, filters,
                                   desk.settings.resource_near_km, query.represents)
    national = desk.index.national(query.country, category, filters, query.represents)
    seen = {e["id"] for e in local}
    entries = local + [e for e in national if e["id"] not in seen]
    if entries:
        return entries, False
    if filters:  # nothing passes every filter: the same kind of help without them (facts are shown)
        return find_entries(desk, replace(query, filters=[]))
    return general_numbers(desk, query.country), True


def general_numbers(desk: ResourceDesk, country: str) -> list[dict[str, Any]]:
    """Return a country's national numbers for anyone (not embassies, not the hotline said already)."""
    hotline = phone_digits(desk.settings.hotline_number)
    return [e for e in desk.index.national(country, None, set())
            if "embassy" not in e.get("categories", []) and phone_digits(str(e.get("phone", ""))) != hotline]


def page_of(
    query: Query, entries: list[dict[str, Any]], none_near: bool, fits: Fits | None
) -> tuple[str, dict[str, Any]]:
    """Cut one page from the entries: up to three, fewer when the reply would pass two SMS segments."""
    size = PAGE
    while True:
        page = entries[query.offset : query.offset + size]
        arguments: dict[str, Any] = {"entries": page, "more": len(entries) > query.offset + len(page),
                                     "first_number": 1}
        if none_near:
            arguments["none_near"] = query.place or "-"
        if size <= 1 or fits is None or fits("utter_resources", arguments):
            query.shown = len(page)
            return "utter_resources", arguments
        size -= 1


def ask_for_place(
    desk: ResourceDesk, key: str, country: str, category: str, filters: list[str], asked: bool
) -> tuple[str, dict[str, Any]]:
    """Ask which town, with the national numbers of the texter's country (or give the hotline if asked before)."""
    remember(desk, key, asked="1", query=json.dumps(asdict(Query("home", country, category=category,
                                                                      filters=filters))))
    if asked:
        return "utter_no_resources", {}
    national = desk.index.national(country, category or None, set(filters)) or [
        e for e in desk.index.national(country, None, set()) if "embassy" not in e.get("categories", [])]
    return "utter_ask_place", ({"entries": national[:PAGE]} if national else {})


def remember(desk: ResourceDesk, key: str, **values: str) -> None:
    """Store a person's last resource query (expires with their other data)."""
    pipe = desk.redis.pipeline()
    pipe.hset(key, mapping=values)
    pipe.expire(key, desk.settings.retention_seconds)
    pipe.execute()


def lookup_for_tracker(
    desk: ResourceDesk, person: str, latest_message: dict[str, Any], fits: Fits | None = None
) -> tuple[str, dict[str, Any]]:
    """Run a lookup for the action server from the tracker's latest message."""
    metadata = latest_message.get("metadata") or {}
    intent = (latest_message.get("intent") or {}).get("name")
    text = str(metadata.get("place_text") or latest_message.get("text") or "")
    if text.startswith("/"):
        text = ""
    return lookup(desk, person, text, metadata, more=intent == "more_resources", fits=fits)
