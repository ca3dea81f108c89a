"""What the gateway remembers about a person, under their keyed hash, with a TTL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis import Redis

from bot.core.identity import Vault, erased_marker_id
from bot.core.rate_limit import window_name
from bot.core.store import Keys

TRANSCRIPT_LENGTH = 50
# The per-person rate limit windows (pipeline.over_rate_limit) and the hourly notice; a counter
# lives two windows after its last hit, so erase knows every name without scanning the keyspace.
RATE_WINDOWS = (60, 3600)
NOTICE_WINDOW = 3600
ERASED_MARKER_SECONDS = 15 * 60  # longer than any Rasa request that could still save a tracker


@dataclass(frozen=True)
class PersonState:
    """A person's sticky choices and contact facts."""

    language: str | None = None
    menu: str | None = None
    opted_out: bool = False
    last_inbound: float | None = None
    limited_notice: str | None = None
    quiet_since: float | None = None  # said "not safe to text" or used the exit word at this time


class People:
    """Read, update and erase people's state in Redis; every write refreshes the TTL."""

    def __init__(self, redis: Redis, keys: Keys, vault: Vault, retention_seconds: int, hash_key: str) -> None:
        self.redis = redis
        self.keys = keys
        self.vault = vault
        self.retention = retention_seconds
        self.hash_key = hash_key

    def load(self, person: str) -> PersonState:
        """Return a person's state (empty for a first contact)."""
        raw = self.redis.hgetall(self.keys.person(person))
        last, quiet = raw.get("last_inbound"), raw.get("quiet_since")
        return PersonState(
            language=raw.get("language") or None,
            menu=raw.get("menu") or None,
            opted_out=raw.get("opted_out") == "1",
            last_inbound=float(last) if last else None,
            limited_notice=raw.get("limited_notice") or None,
            quiet_since=float(quiet) if quiet else None,
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

    def hold_contact(self, person: str, now: float) -> None:
        """Record that nobody may write to the person until they write again (not safe, exit)."""
        self.update(person, quiet_since=now)

    def rate_keys(self, person: str, last_inbound: float | None) -> list[str]:
        """Name every rate counter of a person that can still exist (all were hit by their messages)."""
        if last_inbound is None:
            return []
        names = [window_name(seconds, last_inbound, back) for seconds in RATE_WINDOWS for back in range(3)]
        names += [f"notice{int(last_inbound) // NOTICE_WINDOW - back}" for back in range(3)]
        return [self.keys.rate(person, name) for name in names]

    def erase(self, person: str, now: float | None = None) -> int:
        """Delete every key about a person (state, transcripts, resource query, Rasa tracker, rate
        counters) by name, with no keyspace scan; return how many were removed.

        In the same transaction a marker records when: Rasa's tracker store will not write back a
        conversation that began before it (an answer still in flight)."""
        last = self.redis.hget(self.keys.person(person), "last_inbound")
        keys = self.keys.person_keys(person) + self.rate_keys(person, float(last) if last else None)
        return self._delete_with_marker(person, keys, now)

    def forget_session(self, person: str, now: float | None = None) -> int:
        """Forget the conversation (recent turns, Rasa tracker, handoff acknowledgement) for the
        exit word, with the same marker as erase, so an answer in flight cannot bring it back."""
        keys = [self.keys.transcript(person), self.keys.rasa_tracker(person), self.keys.handoff_ack(person)]
        return self._delete_with_marker(person, keys, now)

    def _delete_with_marker(self, person: str, keys: list[str], now: float | None) -> int:
        """Delete keys and, in the same transaction, mark when Rasa's tracker was taken away."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(*keys)
        marker = self.keys.rasa_erased(erased_marker_id(self.hash_key, person))
        pipe.set(marker, repr(time.time() if now is None else now), ex=ERASED_MARKER_SECONDS)
        return int(pipe.execute()[0])
