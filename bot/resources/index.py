"""Keep the directory in Redis: entries as JSON, local positions in geo sets, national lists by country."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from bot.core.store import Keys
from bot.resources.directory import CATEGORIES, Directory

CANDIDATES = 200


class DirectoryIndex:
    """Nearest-first lookup of local resources with Redis geo commands, and each country's national ones."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._geo = keys.directory_geo
        self._entry = keys.directory_entry

    def loaded_version(self) -> str | None:
        """Return the version of the directory in Redis (None when Redis has none)."""
        return self.redis.get(self.keys.directory_version)  # type: ignore[no-any-return]

    def load(self, directory: Directory, version: str = "") -> int:
        """Replace the indexed directory with this one; return the number of entries."""
        old = list(self.redis.scan_iter(match=self.keys.directory_pattern, count=1000))
        pipe = self.redis.pipeline(transaction=True)
        if old:
            pipe.delete(*old)
        for resource in directory.resources:
            pipe.set(self._entry(resource.id), json.dumps(resource.to_dict(), ensure_ascii=False))
            if resource.scope == "national":
                pipe.rpush(self.keys.directory_national(resource.country), resource.id)
                continue
            position = (resource.longitude, resource.latitude, resource.id)
            pipe.geoadd(self._geo(None), position)
            for category in resource.categories:
                pipe.geoadd(self._geo(category), position)
        pipe.set(self.keys.directory_version, version)
        pipe.execute()
        return len(directory.resources)

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """Return one indexed entry by id."""
        data = self.redis.get(self._entry(resource_id))
        return json.loads(data) if data else None

    def nearest(
        self, latitude: float, longitude: float, category: str | None, filters: set[str], radius_km: float,
        represents: str = "",
    ) -> list[dict[str, Any]]:
        """Return the local resources within radius_km that match, nearest first."""
        if category is not None and category not in CATEGORIES:
            category = None
        found = self.redis.geosearch(
            self._geo(category), longitude=longitude, latitude=latitude, radius=radius_km,
            unit="km", sort="ASC", count=CANDIDATES, withdist=True,
        )
        if not found:
            return []
        raw = self.redis.mget([self._entry(member) for member, _ in found])
        matches = []
        for (_, distance), data in zip(found, raw, strict=True):
            if data is None:
                continue
            entry = json.loads(data)
            if matches_request(entry, category, filters, represents):
                matches.append({**entry, "distance_km": round(float(distance), 1)})
        return matches

    def national(
        self, country: str, category: str | None, filters: set[str], represents: str = ""
    ) -> list[dict[str, Any]]:
        """Return a country's national entries that match, in directory order."""
        if not country:
            return []
        ids = self.redis.lrange(self.keys.directory_national(country), 0, -1)
        raw = self.redis.mget([self._entry(i) for i in ids]) if ids else []
        entries = [json.loads(data) for data in raw if data is not None]
        return [e for e in entries if matches_request(e, category, filters, represents)]


def matches_request(entry: dict[str, Any], category: str | None, filters: set[str], represents: str) -> bool:
    """Say whether an entry is of the category, passes every filter and represents the right country."""
    if category is not None and category in CATEGORIES and category not in entry.get("categories", []):
        return False
    if represents and entry.get("represents") != represents:
        return False
    return all(_passes(entry, f) for f in filters)


def _passes(entry: dict[str, Any], wanted: str) -> bool:
    """Say whether an entry satisfies a filter the person asked for."""
    facts = entry.get("facts", {})
    if wanted == "no_immigration":
        return facts.get("reports_to_immigration") is False
    if wanted == "children":
        return bool(facts.get("accepts_children"))
    return bool(facts.get(wanted))
