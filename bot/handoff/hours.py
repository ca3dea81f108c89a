"""Operating hours of the hotline team: open now? when back?"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_RULE = re.compile(r"^\s*(\w{3})(?:-(\w{3}))?\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s*$")


class HoursError(ValueError):
    """OPERATING_HOURS cannot be parsed."""


@dataclass(frozen=True)
class OperatingHours:
    """Weekly opening windows in a time zone, minus holidays."""

    windows: dict[int, list[tuple[time, time | None]]]
    zone: ZoneInfo
    holidays: frozenset[date]

    @classmethod
    def parse(cls, spec: str, zone: str, holidays: tuple[str, ...] = ()) -> OperatingHours:
        """Parse 'Mon-Fri 08:00-18:00; Sat 09:00-13:00' ('24:00' means midnight)."""
        windows: dict[int, list[tuple[time, time | None]]] = {d: [] for d in range(7)}
        for rule in filter(None, (r.strip() for r in spec.split(";"))):
            match = _RULE.match(rule)
            if not match or match.group(1).lower() not in DAYS:
                raise HoursError(f"OPERATING_HOURS: cannot read {rule!r}")
            first = DAYS.index(match.group(1).lower())
            last = DAYS.index((match.group(2) or match.group(1)).lower())
            start = time(int(match.group(3)), int(match.group(4)))
            end = None if match.group(5) == "24" else time(int(match.group(5)), int(match.group(6)))
            for day in range(first, last + 1):
                windows[day].append((start, end))
        try:
            parsed_holidays = frozenset(date.fromisoformat(h) for h in holidays)
        except ValueError as exc:
            raise HoursError(f"HOLIDAYS: {exc}") from exc
        return cls(windows, ZoneInfo(zone), parsed_holidays)

    def is_open(self, moment: datetime) -> bool:
        """Say whether staff are on duty at a moment."""
        local = moment.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now and (end is None or now < end) for start, end in self.windows[local.weekday()])

    def next_opening(self, moment: datetime) -> datetime | None:
        """Return when staff are next on duty (None if never)."""
        local = moment.astimezone(self.zone)
        for offset in range(0, 15):
            day = (local + timedelta(days=offset)).date()
            if day in self.holidays:
                continue
            for start, _ in sorted(self.windows[day.weekday()]):
                candidate = datetime.combine(day, start, tzinfo=self.zone)
                if candidate > local:
                    return candidate
        return None
