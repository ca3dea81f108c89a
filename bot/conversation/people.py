"""What the gateway remembers about a person, under their keyed hash, with a TTL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis import Redis

from bot.core.identity import Vault
from bot.core.store import Keys

TRANSCRIPT_LENGTH = 50


@dataclass(frozen=True)
class PersonState:
    """A person's sticky choices and contact facts."""

    language: str | None = None
    menu: str | None = None
    opted_out: bool = False
    last_inbound: float | None = None
    limited_notice: str | None = None


class People:
    """Read, update and erase people's state in Redis; every write refreshes the TTL."""

    def __init__(self, redis: Redis, keys: Keys, vault: Vault, retention_seconds: int) -> None:
        self.redis = redis
        self.keys = keys
        self.vault = vault
        self.retention = retention_seconds

    def load(self, person: str) -> PersonState:
        """Return a person's state (empty for a first contact)."""
        raw = self.redis.hgetall(self.keys.person(person))
        last = raw.get("last_inbound")
        return PersonState(
            language=raw.get("language") or None,
            menu=raw.get("menu") or None,
            opted_out=raw.get("opted_out") == "1",
            last_inbound=float(last) if last else None,
            limited_notice=raw.get("limited_notice") or None,
        )

    def update(self, person: str, **values: str | float | bool | None) -> None:
        """Set fields of a person's state (None deletes a field) and refresh its TTL."""
        key = self.keys.person(person)
        pipe = self.redis.pipeline()
        for name, value in values.items():
            if value is None:
                pipe.hdel(key, name)
            else:
                pipe.hset(key, name, "1" if value is True else "0" if value is False else str(value))
        pipe.expire(key, self.retention)
        pipe.execute()

    def count_turn(self, person: str) -> int:
        """Count a dialogue turn sent to Rasa; return the running total."""
        key = self.keys.person(person)
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "turns", 1)
        pipe.expire(key, self.retention)
        return int(pipe.execute()[0])

    def record_turn(self, person: str, role: str, text: str, now: float | None = None) -> None:
        """Append an encrypted turn to the person's recent transcript."""
        entry = json.dumps({"role": role, "at": now or time.time(), "text": text})
        key = self.keys.transcript(person)
        pipe = self.redis.pipeline()
        pipe.rpush(key, self.vault.encrypt(entry))
        pipe.ltrim(key, -TRANSCRIPT_LENGTH, -1)
        pipe.expire(key, self.retention)
        pipe.execute()

    def recent_turns(self, person: str) -> list[str]:
        """Return the person's recent turns, still encrypted."""
        return list(self.redis.lrange(self.keys.transcript(person), 0, -1))

    def erase(self, person: str) -> int:
        """Delete every gateway key about a person; return how many were removed."""
        keys = self.keys.person_keys(person)
        keys += list(self.redis.scan_iter(match=f"{self.keys.prefix}rate:*:{person}", count=500))
        return int(self.redis.delete(*keys)) if keys else 0
