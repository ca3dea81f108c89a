"""Fixed-window counters in Redis: the one rate limiter behind every limit Lantern keeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis import Redis


def window_name(seconds: int, now: float, back: int = 0) -> str:
    """Name the fixed window of a limit that `now` falls in (or one `back` windows earlier)."""
    return f"{seconds}s{int(now) // seconds - back}"


@dataclass(frozen=True)
class Limit:
    """At most `allowed` hits per `seconds`-long window."""

    seconds: int
    allowed: int


class RateLimiter:
    """Count hits per subject in fixed time windows; one key per subject and window."""

    def __init__(self, redis: Redis, key_for: Callable[[str], str], limits: Sequence[Limit]) -> None:
        self.redis = redis
        self.key_for = key_for
        self.limits = tuple(limits)

    def _keys(self, now: float) -> list[str]:
        """Return the counter key of the current window of every limit."""
        return [self.key_for(window_name(limit.seconds, now)) for limit in self.limits]

    def hit(self, now: float) -> bool:
        """Count one hit; True when any limit is now exceeded."""
        pipe = self.redis.pipeline()
        for key, limit in zip(self._keys(now), self.limits, strict=True):
            pipe.incr(key)
            pipe.expire(key, limit.seconds * 2)
        counts = pipe.execute()[::2]
        return any(int(count) > limit.allowed for count, limit in zip(counts, self.limits, strict=True))

    def reset(self, now: float) -> None:
        """Forget the hits of the current windows."""
        self.redis.delete(*self._keys(now))

    def exceeded(self, now: float) -> bool:
        """Say whether a limit is already used up in the current window, without counting."""
        counts = self.redis.mget(self._keys(now))
        return any(int(count or 0) >= limit.allowed for count, limit in zip(counts, self.limits, strict=True))
