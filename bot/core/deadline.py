"""A point in time some work must be done by (the webhook's answer to Twilio's 15 s wait)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock; every slow step asks how much time is left."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """Return the deadline that many seconds from now."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Return the seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    @property
    def passed(self) -> bool:
        """Say whether no time is left."""
        return self.remaining() <= 0
