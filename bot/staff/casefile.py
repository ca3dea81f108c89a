"""What a case page shows: who may do what, why a reply is blocked, the timeline, earlier cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.services import Services
from bot.handoff.cases import Case
from bot.handoff.contact import reply_block
from bot.staff.accounts import Accounts, StaffUser
from bot.staff.canned import canned_replies
from bot.staff.labels import OUTCOMES, block_reasons, canned_labels, event_labels, outcome_labels


def allowed_actions(case: Case, user: StaffUser) -> set[str]:
    """Return what this user may do on this case now (the page shows only these)."""
    actions = {"note"}
    if case.status == "open":
        actions.add("claim")
    if case.active and (case.claimed_by == user.username or user.supervisor):
        actions |= {"reply", "transfer", "close", "resources"}
    return actions


def blocked_reason(svc: Services, case: Case, user: StaffUser) -> tuple[str, str]:
    """Return why this user cannot reply now (code, translated reason), or ("", "")."""
    code, _english = reply_block(svc, case)
    if not code and "reply" not in allowed_actions(case, user):
        code = "not_owner"
    return (code, reason_text(svc, code, _english)) if code else ("", "")


def reason_text(svc: Services, code: str, english: str) -> str:
    """Translate why a reply was refused (the English reason when the code is unknown)."""
    return block_reasons(svc.settings.safe_contact_window_seconds // 3600).get(code, english)


@dataclass
class TimelineEntry:
    """One event as the page shows it."""

    at: float
    event: str
    text: str
    detail: str = ""


def timeline(svc: Services, case: Case) -> list[TimelineEntry]:
    """Return the case's events, oldest first, described in the console language."""
    labels, outcomes = event_labels(), outcome_labels()
    entries = []
    for raw in svc.cases.timeline(case.id):
        event = str(raw.get("event", ""))
        values = {"by": raw.get("by") or "—", "to": raw.get("to") or "—",
                  "outcome": outcomes.get(str(raw.get("outcome", "")), str(raw.get("outcome", "")))}
        detail = str(raw.get("detail", ""))
        label = f"{event}:{detail}" if event == "safe_to_text" else event
        text = labels.get(label, event).format(**values)
        entries.append(TimelineEntry(float(str(raw.get("at", 0))), event, text, detail))
    return entries


def last_detail(entries: list[TimelineEntry], event: str) -> TimelineEntry | None:
    """Return the latest entry of one kind (the hand-over note, the closing summary)."""
    return next((entry for entry in reversed(entries) if entry.event == event and entry.detail), None)


@dataclass
class CaseFile:
    """Everything the case page renders."""

    case: Case
    actions: set[str]
    block_code: str
    block_reason: str
    transcript: list[dict[str, object]]
    notes: list[dict[str, object]]
    events: list[TimelineEntry]
    earlier: list[Case]
    colleagues: list[StaffUser]
    direction: str
    language_name: str
    canned: list[dict[str, str]] = field(default_factory=list)
    outcomes: tuple[str, ...] = OUTCOMES

    @property
    def handover(self) -> TimelineEntry | None:
        """Return the latest hand-over note."""
        return last_detail(self.events, "transferred")

    @property
    def closing(self) -> TimelineEntry | None:
        """Return the latest closing summary."""
        return last_detail(self.events, "closed")

    @property
    def reply_state(self) -> str:
        """Return a short fingerprint of what the reply area shows (the page swaps it when it changes)."""
        return self.block_code or "open"


def case_file(svc: Services, case: Case, user: StaffUser) -> CaseFile:
    """Gather what the case page shows for this user."""
    code, reason = blocked_reason(svc, case, user)
    accounts = Accounts(svc.db, svc.redis, svc.keys)
    colleagues = [u for name in accounts.usernames() if name != user.username and (u := accounts.get(name))]
    language = svc.registry.get(case.language)
    labels = canned_labels()
    canned = [{"key": c.key, "label": labels.get(c.key, c.key), "text": c.text, "english": c.english}
              for c in canned_replies(svc, case.language)]
    return CaseFile(
        case=case, actions=allowed_actions(case, user), block_code=code, block_reason=reason,
        transcript=svc.cases.transcript(case.id), notes=svc.cases.notes(case.id), events=timeline(svc, case),
        earlier=svc.cases.earlier_cases(case), colleagues=colleagues, direction=language.direction,
        language_name=language.name, canned=canned,
    )
