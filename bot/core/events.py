"""Record PII-free report events: what happened, bucketed to the hour, never who or what they wrote.

A person is only ever a `contact` tag: a hash of their keyed hash with a random salt made for one
UTC day and deleted after it, so tags count distinct people per day but link no two days and
lead back to no number. Recording never fails or delays a reply: errors are logged and dropped.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from redis import Redis
from redis.exceptions import RedisError

from bot.core.database import Database, events
from bot.core.store import Keys

log = logging.getLogger(__name__)
SALT_KEPT_SECONDS = 26 * 3600  # the salt outlives its day only by the slack of clocks between processes
DETAIL_LENGTH = 64


def hour_and_day(at: float) -> tuple[float, str]:
    """Return the start of the UTC hour of a time, and its UTC day as YYYY-MM-DD."""
    hour = float(int(at) // 3600 * 3600)
    return hour, datetime.fromtimestamp(hour, tz=timezone.utc).strftime("%Y-%m-%d")


class DailySalts:
    """One random salt per UTC day, shared by every process through Redis and gone after the day."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self.known: dict[str, str] = {}
        self.lock = threading.Lock()

    def salt(self, day: str) -> str:
        """Return the day's salt (a process-local one while Redis is unreachable: it may count a
        person twice that day, never link days)."""
        with self.lock:
            if day in self.known:
                return self.known[day]
            fresh = secrets.token_hex(16)
            try:
                self.redis.set(self.keys.report_salt(day), fresh, nx=True, ex=SALT_KEPT_SECONDS)
                stored = self.redis.get(self.keys.report_salt(day))
                salt = stored.decode() if isinstance(stored, bytes) else str(stored or fresh)
            except RedisError:
                salt = fresh
            self.known = {day: salt}  # forget earlier days' salts
            return salt

    def tag(self, person: str, day: str) -> str:
        """Return a person's contact tag for one day ('' for no person)."""
        if not person:
            return ""
        return hashlib.sha256(f"{self.salt(day)}:{person}".encode()).hexdigest()[:24]


class EventLog:
    """Append report events to the database (table `events`)."""

    def __init__(self, db: Database, salts: DailySalts, clock: Callable[[], float]) -> None:
        self.db = db
        self.salts = salts
        self.clock = clock
        self.listeners: list[Callable[[str, str], None]] = []  # (kind, detail): e.g. metrics counters

    def record(
        self, kind: str, *, at: float | None = None, person: str = "", channel: str = "", language: str | None = "",
        detail: str = "", case_id: str = "", value: float | None = None,
    ) -> None:
        """Record one event (person is a keyed hash, turned into the day's contact tag)."""
        try:
            hour, day = hour_and_day(self.clock() if at is None else at)
            row = dict(hour=hour, day=day, kind=kind[:32], channel=channel[:16], language=(language or "")[:8],
                       detail=detail[:DETAIL_LENGTH], contact=self.salts.tag(person, day), case_id=case_id[:16],
                       value=value)
            with self.db.begin() as connection:
                connection.execute(events.insert().values(**row))
            for listener in self.listeners:
                listener(kind, detail)
        except Exception as exc:  # noqa: BLE001 - a report must never break a reply
            log.warning("report event not recorded", extra={"kind": kind, "error": type(exc).__name__})
