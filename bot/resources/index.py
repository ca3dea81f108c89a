"""Keep the directory in Redis: entries as JSON, positions in geo sets per category."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from bot.core.store import Keys
from bot.resources.directory import CATEGORIES, Directory

SEARCH_RADIUS_KM = 300
CANDIDATES = 200


class DirectoryIndex:
    """Nearest-first lookup of resources with Redis geo commands."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._geo = keys.directory_geo
        self._entry = keys.directory_entry

    def load(self, directory: Directory) -> int:
        """Replace the indexed directory with this one; return the number of entries."""
        old = list(self.redis.scan_iter(match=self.keys.directory_pattern, count=1000))
        pipe = self.redis.pipeline(transaction=True)
        if old:
            pipe.delete(*old)
        for resource in directory.resources:
            pipe.set(self._entry(resource.id), json.dumps(resource.to_dict(), ensure_ascii=False))
            position = (resource.longitude, resource.latitude, resource.id)
            pipe.geoadd(self._geo(None), position)
            for category in resource.categories:
                pipe.geoadd(self._geo(category), position)
        pipe.execute()
        return len(directory.resources)

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """Return one indexed entry by id."""
        data = self.redis.get(self._entry(resource_id))
        return json.loads(data) if data else None

    def nearest(
        self, latitude: float, longitude: float, category: str | None, filters: set[str],
        offset: int, limit: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Return up to `limit` matching resources after `offset`, nearest first, and if more exist."""
        if category is not None and category not in CATEGORIES:
            category = None
        found = self.redis.geosearch(
            self._geo(category), longitude=longitude, latitude=latitude, radius=SEARCH_RADIUS_KM,
            unit="km", sort="ASC", count=CANDIDATES, withdist=True,
        )
        if not found:
            return [], False
        raw = self.redis.mget([self._entry(member) for member, _ in found])
        matches = []
        for (_, distance), data in zip(found, raw, strict=True):
            if data is None:
                continue
            entry = json.loads(data)
            if all(_passes(entry, f) for f in filters):
                matches.append({**entry, "distance_km": round(float(distance), 1)})
        return matches[offset : offset + limit], len(matches) > offset + limit


def _passes(entry: dict[str, Any], wanted: str) -> bool:
    """Say whether an entry satisfies a filter the person asked for."""
    facts = entry.get("facts", {})
    if wanted == "no_immigration":
        return facts.get("reports_to_immigration") is False
    if wanted == "children":
        return bool(facts.get("accepts_children"))
    return bool(facts.get(wanted))
