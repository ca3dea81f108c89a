"""Aggregate report events into the figures of the Reports page, the CSV exports and the stats API.

Everything comes from the `events` table (cases are deleted after retention, events stay), and
every count passes through the Suppressor before anyone sees it (docs/reports.md).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from bot.core.database import Database, events
from bot.staff.suppression import Cell, Suppressor, Table

MAX_DAYS = 366
PRIORITIES = ["emergency", "urgent", "normal"]
KEYWORDS = ["stop", "delete", "exit", "help"]
CHANNELS = ["sms", "whatsapp"]


class RangeError(ValueError):
    """A report range or filter that cannot be used."""


@dataclass(frozen=True)
class ReportRange:
    """The days (UTC, both included) and the filters a report covers."""

    start: date
    end: date
    language: str = ""
    channel: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, str], languages: Iterable[str], today: date | None = None) -> ReportRange:
        """Read from/to (YYYY-MM-DD; default the last 7 days), language and channel from request arguments."""
        today = today or datetime.now(timezone.utc).date()
        try:
            end = date.fromisoformat(args.get("to") or today.isoformat())
            start = date.fromisoformat(args.get("from") or (end - timedelta(days=6)).isoformat())
        except ValueError as exc:
            raise RangeError("from and to must be dates as YYYY-MM-DD") from exc
        if start > end or (end - start).days >= MAX_DAYS:
            raise RangeError(f"from must not be after to, and a report covers at most {MAX_DAYS} days")
        language, channel = args.get("language", ""), args.get("channel", "")
        if language and language not in set(languages):
            raise RangeError("unknown language")
        if channel and channel not in CHANNELS:
            raise RangeError("unknown channel")
        return cls(start, end, language, channel)

    @property
    def days(self) -> list[str]:
        """Return every day of the range as YYYY-MM-DD."""
        return [(self.start + timedelta(days=n)).isoformat() for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Event:
    """One report event as read back."""

    day: str
    kind: str
    channel: str
    language: str
    detail: str
    contact: str
    case_id: str
    value: float | None
    hour: float


def load_events(db: Database, span: ReportRange) -> list[Event]:
    """Read the events of a range, with its filters."""
    query = select(events.c.day, events.c.kind, events.c.channel, events.c.language, events.c.detail,
                   events.c.contact, events.c.case_id, events.c.value, events.c.hour).where(
        events.c.day >= span.start.isoformat(), events.c.day <= span.end.isoformat())
    if span.language:
        query = query.where(events.c.language == span.language)
    if span.channel:
        query = query.where(events.c.channel == span.channel)
    with db.connect() as connection:
        return [Event(*row) for row in connection.execute(query.order_by(events.c.id))]


def topic(detail: str) -> str:
    """Name what an answer was about: its response without 'utter_' and page numbers."""
    return re.sub(r"_\d+$", "", detail.removeprefix("utter_")) or "-"


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of values (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Figures:
    """Build every figure of a report from its events."""

    def __init__(self, loaded: list[Event], span: ReportRange, suppressor: Suppressor, languages: list[str]) -> None:
        self.events = loaded
        self.span = span
        self.days = span.days
        self.hide = suppressor
        self.languages = languages

    def of(self, *kinds: str) -> list[Event]:
        """Return the events of some kinds."""
        return [e for e in self.events if e.kind in kinds]

    def per_day(self, rows: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
        """Count (day, column) pairs."""
        counts: dict[str, dict[str, int]] = defaultdict(Counter)
        for day, column in rows:
            counts[day][column] += 1
        return counts

    def distinct_per_day(self, by: str) -> Table:
        """Distinct contacts per day by language or channel (a person in two languages counts in each)."""
        tagged = [e for e in self.events if e.contact and getattr(e, by)]
        pairs = {(e.day, getattr(e, by), e.contact) for e in tagged}
        counts = self.per_day((day, column) for day, column, _ in pairs)
        columns = sorted({column for _, column, _ in pairs}, key=self.order_of(by))
        totals = Counter(day for day, _ in {(e.day, e.contact) for e in tagged})
        return self.hide.table(counts, self.days, columns, dict(totals), additive_rows=False)

    def order_of(self, by: str) -> Any:
        """Return a sort key putting languages in the registry's order, channels in theirs."""
        known = self.languages if by == "language" else CHANNELS
        return lambda name: (known.index(name) if name in known else len(known), name)

    def activity(self) -> Table:
        """People, new people, messages, not understood and fallbacks per day."""
        contacts = Counter(day for day, _ in {(e.day, e.contact) for e in self.events if e.contact})
        counts: dict[str, dict[str, int]] = defaultdict(Counter)
        for day, count in contacts.items():
            counts[day]["contacts"] = count
        for e in self.events:
            if e.kind == "message":
                counts[e.day]["messages"] += 1
                counts[e.day]["new_contacts"] += e.detail == "first"
            elif e.kind in ("not_understood", "fallback", "outbound_refused"):
                counts[e.day][e.kind] += 1
        columns = ["contacts", "new_contacts", "messages", "not_understood", "fallback", "outbound_refused"]
        table = self.hide.table(counts, self.days, columns, {d: 0 for d in self.days}, additive_rows=False)
        table.row_totals, table.total = {}, ""  # the columns are different things: no sum across them
        return table

    def totals(self, kinds: tuple[str, ...], name: Any = None) -> Table:
        """Count events of some kinds over the whole range, by detail (or by name(detail))."""
        counts = Counter((name or str)(e.detail) for e in self.of(*kinds))
        columns = [column for column, _ in counts.most_common()]
        return self.hide.table({"all": dict(counts)}, ["all"], columns)

    def by_day(self, kind: str, columns: list[str], name: Any = None) -> Table:
        """Count events of a kind per day by detail (or by name(detail))."""
        counts = self.per_day((e.day, (name or str)(e.detail)) for e in self.of(kind))
        return self.hide.table(counts, self.days, columns)

    def times(self, kind: str) -> dict[str, object]:
        """Median and 90th percentile of seconds (claim, first reply) per day and overall."""
        values: dict[str, list[float]] = defaultdict(list)
        for e in self.of(kind):
            if e.value is not None:
                values[e.day].append(float(e.value))
        return {"days": {day: self.summary(values.get(day, [])) for day in self.days},
                "all": self.summary([v for day in self.days for v in values.get(day, [])])}

    def summary(self, values: list[float]) -> dict[str, object]:
        """Return n, median and p90 of some seconds (n hidden and no figures when too few)."""
        if not values or self.hide.hides(len(values)):
            return {"n": self.hide.cell(len(values)), "median": None, "p90": None}
        return {"n": len(values), "median": round(statistics.median(values), 1),
                "p90": round(percentile(values, 0.9), 1)}

    def shares(self, part_kind: str) -> dict[str, object]:
        """The share of escalations with another event (reminder, after hours), per day and overall."""
        whole = Counter(e.day for e in self.of("escalation"))
        part = Counter(e.day for e in self.of(part_kind))

        def share(p: int, w: int) -> dict[str, object]:
            return {"escalations": self.hide.cell(w), "count": self.hide.cell(p), "share": self.hide.rate(p, w)}

        days = {day: share(part[day], whole[day]) for day in self.days}
        return {"days": days, "all": share(sum(part[d] for d in self.days), sum(whole[d] for d in self.days))}

    def not_understood(self) -> dict[str, object]:
        """The share of answered messages not understood, per language."""
        answered = Counter(e.language for e in self.of("answer", "menu_choice", "not_understood"))
        missed = Counter(e.language for e in self.of("not_understood"))
        return {language: {"messages": self.hide.cell(answered[language]), "not_understood":
                           self.hide.cell(missed[language]), "rate": self.hide.rate(missed[language],
                                                                                    answered[language])}
                for language in sorted(answered, key=self.order_of("language")) if language}


def build_report(db: Database, span: ReportRange, suppressor: Suppressor, languages: list[str]) -> dict[str, Any]:
    """Compute every figure of a report, suppressed, as JSON-ready data."""
    figures = Figures(load_events(db, span), span, suppressor, languages)
    priorities = figures.by_day("escalation", PRIORITIES, lambda detail: detail.split("|", 1)[0])
    return {
        "from": span.start.isoformat(), "to": span.end.isoformat(),
        "filters": {"language": span.language, "channel": span.channel},
        "min_count": suppressor.minimum, "suppressed": suppressor.label, "days": figures.days,
        "activity": figures.activity().as_json(),
        "contacts_by_language": figures.distinct_per_day("language").as_json(),
        "contacts_by_channel": figures.distinct_per_day("channel").as_json(),
        "topics": figures.totals(("answer",), topic).as_json(),
        "menu_choices": figures.totals(("menu_choice",)).as_json(),
        "resource_categories": figures.totals(("resource",), lambda d: d.split("/", 1)[0]).as_json(),
        "resource_countries": figures.totals(("resource",), lambda d: d.split("/", 1)[-1]).as_json(),
        "escalations_by_priority": priorities.as_json(),
        "escalation_reasons": figures.totals(("escalation",), lambda d: d.split("|", 1)[-1]).as_json(),
        "time_to_claim": figures.times("claimed"),
        "time_to_first_reply": figures.times("first_reply"),
        "unclaimed_at_reminder": figures.shares("reminder"),
        "outside_hours": figures.shares("after_hours"),
        "outcomes": figures.totals(("closed",)).as_json(),
        "keywords": figures.by_day("keyword", KEYWORDS).as_json(),
        "not_understood_by_language": figures.not_understood(),
    }


CASE_COLUMNS = ["case", "opened", "priority", "reason", "language", "channel", "reopened",
                "claimed_after_s", "first_reply_after_s", "closed_after_s", "outcome"]


def case_rows(db: Database, span: ReportRange) -> list[dict[str, object]]:
    """One row per case opened in the range, from its events: times in seconds from (re)opening."""
    found: dict[str, dict[str, object]] = {}
    for e in load_events(db, span):
        if not e.case_id:
            continue
        if e.kind == "escalation":
            priority, _, reason = e.detail.partition("|")
            row = found.setdefault(e.case_id, {column: "" for column in CASE_COLUMNS} | {
                "case": e.case_id, "language": e.language, "channel": e.channel, "reopened": -1,
                "opened": datetime.fromtimestamp(e.hour, tz=timezone.utc).strftime("%Y-%m-%dT%H:00Z")})
            row |= {"priority": priority, "reason": reason, "reopened": int(str(row["reopened"])) + 1}
        elif e.case_id in found and e.kind in ("claimed", "first_reply", "closed"):
            row = found[e.case_id]
            column = {"claimed": "claimed_after_s", "first_reply": "first_reply_after_s",
                      "closed": "closed_after_s"}[e.kind]
            row[column] = round(e.value or 0.0)
            if e.kind == "closed":
                row["outcome"] = e.detail
    return list(found.values())


def table_cells(report: Mapping[str, Any], name: str, day: str) -> dict[str, Cell]:
    """Return one day's row of a report table."""
    return dict(report[name]["cells"].get(day, {}))
