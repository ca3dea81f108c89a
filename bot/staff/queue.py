"""The queue a counsellor works from: filters with counts, the default view, order and pages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bot.conversation.risk import PRIORITY_ORDER
from bot.handoff.cases import Case
from bot.staff.accounts import StaffUser

PAGE_SIZE = 25
STATUSES = ("open", "claimed", "closed")
TOGGLES = ("mine", "unclaimed", "overdue")


@dataclass(frozen=True)
class QueueFilter:
    """What the counsellor asked to see (from the page's query string)."""

    priority: str = ""
    status: str = ""  # "" means every active case
    language: str = ""
    channel: str = ""
    mine: bool = False
    unclaimed: bool = False
    overdue: bool = False
    query: str = ""  # a case id, or its first characters
    show_all: bool = False  # "all": leave the counsellor's default view
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilter:
        """Read a filter from request arguments, ignoring anything malformed."""
        page = args.get("page", "1")
        query = "".join(ch for ch in args.get("q", "").strip().lower() if ch.isalnum())[:24]
        return cls(
            priority=args.get("priority", "") if args.get("priority") in PRIORITY_ORDER else "",
            status=args.get("status", "") if args.get("status") in STATUSES else "",
            language=args.get("language", "")[:8] if args.get("language", "").isalpha() else "",
            channel=args.get("channel", "") if args.get("channel") in ("sms", "whatsapp") else "",
            mine=args.get("mine") == "1", unclaimed=args.get("unclaimed") == "1", overdue=args.get("overdue") == "1",
            query=query, show_all=args.get("view") == "all", page=max(1, int(page)) if page.isdigit() else 1,
        )

    @property
    def narrowed(self) -> bool:
        """Say whether any filter or search is chosen."""
        return bool(self.priority or self.status or self.language or self.channel or self.mine
                    or self.unclaimed or self.overdue or self.query)

    def args(self, **changes: object) -> dict[str, str]:
        """Return query arguments for this filter with some changes (page back to 1 unless given)."""
        chosen = replace(self, **{"page": 1, **changes})  # type: ignore[arg-type]
        values = {"priority": chosen.priority, "status": chosen.status, "language": chosen.language,
                  "channel": chosen.channel, "q": chosen.query,
                  "mine": "1" if chosen.mine else "", "unclaimed": "1" if chosen.unclaimed else "",
                  "overdue": "1" if chosen.overdue else "", "view": "all" if chosen.show_all else "",
                  "page": str(chosen.page) if chosen.page > 1 else ""}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class QueueContext:
    """Who is looking and when, which decides 'mine', 'overdue' and the default view."""

    user: StaffUser
    now: float
    overdue_after: float  # seconds an open case may wait before the unclaimed reminder

    def overdue(self, case: Case) -> bool:
        """Say whether an open case waited past the reminder (or was reminded)."""
        waiting = case.waiting_since or case.created_at
        return case.status == "open" and (bool(case.reminded_at) or self.now - waiting >= self.overdue_after)

    def in_my_languages(self, case: Case) -> bool:
        """Say whether the case's language is one the user speaks (any, when none are listed)."""
        return not self.user.languages or case.language in self.user.languages


def matches(case: Case, chosen: QueueFilter, ctx: QueueContext) -> bool:
    """Say whether a case passes every chosen filter."""
    if chosen.query and not case.id.startswith(chosen.query):
        return False
    if chosen.status:
        if case.status != chosen.status:
            return False
    elif not chosen.query and not case.active:
        return False
    return not (
        chosen.priority and case.priority != chosen.priority
        or chosen.language and case.language != chosen.language
        or chosen.channel and case.channel != chosen.channel
        or chosen.mine and case.claimed_by != ctx.user.username
        or chosen.unclaimed and case.status != "open"
        or chosen.overdue and not ctx.overdue(case)
    )


def default_group(case: Case, ctx: QueueContext) -> int | None:
    """Place a case in a counsellor's default view: 0 waiting for them, 1 theirs, None hidden.

    Waiting: unclaimed cases in their languages, and every unclaimed emergency whatever its language."""
    if case.status == "open" and (ctx.in_my_languages(case) or case.priority == "emergency"):
        return 0
    if case.active and case.claimed_by == ctx.user.username:
        return 1
    return None


def order_key(case: Case) -> tuple[int, float]:
    """Sort active cases by priority, then longest wait; closed ones newest first."""
    if not case.active:
        return len(PRIORITY_ORDER), -case.closed_at
    return PRIORITY_ORDER.index(case.priority), case.waiting_since or case.created_at


@dataclass
class QueuePage:
    """One page of the queue, with the counts for every filter option."""

    rows: list[tuple[int, Case]]  # (group, case); group 0/1 in the default view, else 0
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)
    default_view: bool = False
    emergencies: list[str] = field(default_factory=list)  # every active emergency, any filter


def facet_counts(cases: list[Case], chosen: QueueFilter, ctx: QueueContext, languages: list[str]) -> dict[str, int]:
    """Count, for each filter option, the cases it would show with the other filters kept."""
    variants: dict[str, dict[str, object]] = {f"priority:{p}": {"priority": p} for p in PRIORITY_ORDER}
    variants |= {f"status:{s}": {"status": s} for s in STATUSES}
    variants |= {f"language:{code}": {"language": code} for code in languages}
    variants |= {f"channel:{c}": {"channel": c} for c in ("sms", "whatsapp")}
    variants |= {toggle: {toggle: True} for toggle in TOGGLES}
    variants["all"] = {"priority": "", "status": "", "language": "", "channel": "", "mine": False,
                       "unclaimed": False, "overdue": False, "query": ""}
    counts = {}
    for name, changes in variants.items():
        variant = replace(chosen, **changes)  # type: ignore[arg-type]
        counts[name] = sum(1 for case in cases if matches(case, variant, ctx))
    return counts


def build_page(cases: list[Case], chosen: QueueFilter, ctx: QueueContext, languages: list[str]) -> QueuePage:
    """Filter, order and page the cases for one view of the queue."""
    default_view = not chosen.narrowed and not chosen.show_all and not ctx.user.supervisor
    if default_view:
        grouped = [(group, case) for case in cases if case.active
                   and (group := default_group(case, ctx)) is not None]
    else:
        grouped = [(0, case) for case in cases if matches(case, chosen, ctx)]
    grouped.sort(key=lambda item: (item[0], *order_key(item[1])))
    pages = max(1, math.ceil(len(grouped) / PAGE_SIZE))
    page = min(chosen.page, pages)
    emergencies = [c.id for c in cases if c.active and c.priority == "emergency"]
    return QueuePage(
        rows=grouped[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], total=len(grouped), page=page, pages=pages,
        counts=facet_counts(cases, chosen, ctx, languages), default_view=default_view, emergencies=emergencies,
    )
