"""Cases handed to hotline staff: open -> claimed -> closed, kept in the database with an encrypted transcript."""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.conversation.risk import PRIORITY_ORDER
from bot.core.database import Database, case_entries, cases
from bot.core.events import EventLog
from bot.core.identity import Vault
from bot.core.store import Keys

log = logging.getLogger(__name__)
ACTIVE = ("open", "claimed")
TURN, NOTE, EVENT = "turn", "note", "event"


class CaseConflict(RuntimeError):
    """A case changed since it was read, so a compare-and-set update was not applied."""


@dataclass
class Case:
    """One case: who it is about (keyed hash), its state and when things happened."""

    id: str
    person: str
    status: str
    priority: str
    language: str
    channel: str
    reason: str
    created_at: float
    updated_at: float
    contact: str = ""  # the phone number, encrypted; never leaves the server
    claimed_by: str = ""
    closed_at: float = 0.0
    outcome: str = ""
    safe_to_text: str = "unknown"
    reminded_at: float = 0.0
    reopened: int = 0
    waiting_since: float = 0.0  # when it was last opened or reopened
    claimed_at: float = 0.0
    first_reply_at: float = 0.0  # the first staff reply since it was (re)opened
    last_user_at: float = 0.0  # the person's latest message on the case
    last_staff_at: float = 0.0  # the latest staff reply
    safe_to_text_at: float = 0.0  # when the person last answered "is it safe to text?"
    version: int = 1  # grows with every change: compare-and-set updates check it

    @property
    def active(self) -> bool:
        """Say whether the case is open or claimed."""
        return self.status in ACTIVE

    def public(self) -> dict[str, object]:
        """Return the case as the staff API shows it (never a phone number)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "language": self.language,
            "priority": self.priority,
            "status": self.status,
            "reason": self.reason,
            "created_at": self.created_at,
        }

    def summary(self) -> dict[str, object]:
        """Return the fields the console shows in its queue."""
        return {**self.public(), "claimed_by": self.claimed_by, "updated_at": self.updated_at,
                "safe_to_text": self.safe_to_text, "outcome": self.outcome,
                "waiting_since": self.waiting_since or self.created_at, "reopened": self.reopened}

    @property
    def unanswered(self) -> bool:
        """Say whether the person wrote after the case opened and no staff reply followed."""
        return self.last_user_at > max(self.last_staff_at, self.created_at)

    @property
    def silenced(self) -> bool:
        """Say whether the person said it is not safe to text and has not written since."""
        return self.safe_to_text == "no" and self.last_user_at <= self.safe_to_text_at


CASE_FIELDS = tuple(f.name for f in fields(Case))


def _case_from(row: Any) -> Case | None:
    """Build a case from a database row (None for no row)."""
    if row is None:
        return None
    mapping = row._mapping
    return Case(**{name: mapping[name] for name in CASE_FIELDS})


def _queue_key(case: Case) -> tuple[int, float]:
    """Order active cases by priority, then age."""
    return PRIORITY_ORDER.index(case.priority), case.created_at


class CaseStore:
    """Keep cases in the database and announce every change to staff consoles (Redis pub/sub).

    Every change is one conditional UPDATE of the columns it changes: concurrent messages and
    staff actions never rewrite a case from a stale copy, and `expect` makes a change conditional
    (compare-and-set) on what the caller saw, e.g. a claim only while the case is still open."""

    def __init__(self, db: Database, redis: Redis, keys: Keys, vault: Vault, retention: int,
                 closed_retention: int, max_turns: int = 500) -> None:
        self.db = db
        self.redis = redis
        self.keys = keys
        self.vault = vault
        self.retention = retention
        self.closed_retention = closed_retention
        self.max_turns = max_turns
        self.events: EventLog | None = None  # report events of each case's life (set by build_services)

    def _report(self, kind: str, case: Case, at: float, detail: str = "", since: float | None = None) -> None:
        """Record a report event about a case (with the seconds since `since`, when given)."""
        if self.events is not None:
            value = max(0.0, at - since) if since else None
            self.events.record(kind, at=at, person=case.person if kind == "escalation" else "", channel=case.channel,
                               language=case.language, detail=detail, case_id=case.id, value=value)

    def _expires_at(self, status: str) -> float:
        """Return when a case saved now in a status is deleted (retention counts from its last change)."""
        return time.time() + (self.retention if status in ACTIVE else self.closed_retention)

    # --- reading ---------------------------------------------------------------------
    def _select(self, *conditions: Any, order: Any = None, limit: int | None = None) -> list[Case]:
        """Load the unexpired cases matching conditions."""
        query = select(cases).where(cases.c.expires_at > time.time(), *conditions)
        if order is not None:
            query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        with self.db.connect() as connection:
            return [c for c in map(_case_from, connection.execute(query)) if c is not None]

    def get(self, case_id: str) -> Case | None:
        """Load a case by id."""
        found = self._select(cases.c.id == case_id)
        return found[0] if found else None

    def current_for(self, person: str) -> Case | None:
        """Return the person's latest case (active or recently closed), if any."""
        if not person:
            return None
        found = self._select(cases.c.person == person, order=cases.c.created_at.desc(), limit=1)
        return found[0] if found else None

    def queue(self) -> list[Case]:
        """Return active cases, most urgent and oldest first."""
        return sorted(self._select(cases.c.status.in_(ACTIVE)), key=_queue_key)

    def recent(self, limit: int = 50) -> list[Case]:
        """Return the newest cases of any status."""
        return self._select(order=cases.c.created_at.desc(), limit=limit)

    def opened_since(self, since: float, limit: int | None = None) -> list[Case]:
        """Return every case opened after a time, whatever its status, oldest first."""
        return self._select(cases.c.created_at > since, order=cases.c.created_at, limit=limit)

    def _decrypted_entries(self, case_id: str, kind: str) -> list[dict[str, object]]:
        """Return the readable entries of one kind of a case, oldest first."""
        query = (select(case_entries.c.payload).where(case_entries.c.case_id == case_id, case_entries.c.kind == kind)
                 .order_by(case_entries.c.id))
        with self.db.connect() as connection:
            tokens = list(connection.execute(query).scalars())
        entries = []
        for token in tokens:
            plain = self.vault.try_decrypt(token)
            if plain is not None:
                entries.append(json.loads(plain))
        return entries

    def transcript(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's decrypted transcript, oldest first."""
        return self._decrypted_entries(case_id, TURN)

    def notes(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's internal staff notes."""
        return self._decrypted_entries(case_id, NOTE)

    def timeline(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's events (who did what, when), oldest first."""
        return self._decrypted_entries(case_id, EVENT)

    def earlier_cases(self, case: Case) -> list[Case]:
        """Return the same person's other cases (found by keyed hash), newest first."""
        if not case.person:
            return []
        return self._select(cases.c.person == case.person, cases.c.id != case.id,
                            order=cases.c.created_at.desc(), limit=50)

    def contact_number(self, case: Case) -> str | None:
        """Decrypt the number to reply to for a case."""
        return self.vault.try_decrypt(case.contact) if case.contact else None

    # --- writing ---------------------------------------------------------------------
    def _add_entry(self, connection: Connection, case_id: str, kind: str, entry: dict[str, object]) -> None:
        """Append one encrypted entry to a case."""
        connection.execute(insert(case_entries).values(
            case_id=case_id, kind=kind, at=float(str(entry.get("at", time.time()))),
            payload=self.vault.encrypt(json.dumps(entry))))

    def _change(self, case: Case, changes: dict[str, Any], expect: dict[str, Any] | None = None,
                entries: tuple[tuple[str, dict[str, object]], ...] | list[tuple[str, dict[str, object]]] = ()) -> Case:
        """Apply changes to a case in one transaction, only if it still matches `expect`; add entries;
        bring the caller's copy up to date. Raises CaseConflict when the case changed meanwhile."""
        values = {**changes, "version": cases.c.version + 1}
        status = str(changes.get("status", case.status))
        values["expires_at"] = self._expires_at(status)
        conditions = [cases.c.id == case.id]
        conditions += [cases.c[name].in_(value) if isinstance(value, tuple) else cases.c[name] == value
                       for name, value in (expect or {}).items()]
        with self.db.begin() as connection:
            changed = connection.execute(update(cases).where(and_(*conditions)).values(**values)).rowcount
            if not changed:
                raise CaseConflict(case.id)
            for kind, entry in entries:
                self._add_entry(connection, case.id, kind, entry)
            fresh = _case_from(connection.execute(select(cases).where(cases.c.id == case.id)).first())
        assert fresh is not None
        for name in CASE_FIELDS:
            setattr(case, name, getattr(fresh, name))
        return case

    def publish(self, case: Case, event: str, by: str = "") -> None:
        """Announce a case change to connected consoles (ids, status and who; never text).
        The change is already stored: a Redis outage only delays the console until it reloads."""
        payload = {"event": event, "by": by, "case": case.summary()}
        try:
            self.redis.publish(self.keys.case_events, json.dumps(payload))
        except RedisError as exc:
            log.warning("case change not announced", extra={"case": case.id, "error": type(exc).__name__})

    @staticmethod
    def _event(event: str, by: str = "", detail: str = "", at: float | None = None, **facts: str) -> dict[str, object]:
        """Build a timeline entry."""
        return {"at": at or time.time(), "event": event, "by": by, "detail": detail, **facts}

    def record(
        self, case: Case, event: str, by: str = "", detail: str = "", at: float | None = None, **facts: str
    ) -> None:
        """Add an event to a case's encrypted timeline (the detail may hold a hand-over note)."""
        with self.db.begin() as connection:
            self._add_entry(connection, case.id, EVENT, self._event(event, by, detail, at, **facts))

    def open(
        self, person: str, number: str, channel: str, language: str, priority: str, reason: str,
        earlier_turns: list[str], now: float | None = None,
    ) -> Case:
        """Open a case for a person, seeded with their recent encrypted turns. When another process
        opened one for them a moment earlier, that case is returned instead (one active case each)."""
        now = now or time.time()
        case = Case(
            id=secrets.token_hex(6), person=person, status="open", priority=priority,
            language=language, channel=channel, reason=reason, created_at=now, updated_at=now,
            contact=self.vault.encrypt(number), waiting_since=now,
        )
        try:
            with self.db.begin() as connection:
                connection.execute(insert(cases).values(**asdict(case), expires_at=self._expires_at("open")))
                for token in earlier_turns:
                    plain = self.vault.try_decrypt(token)
                    entry = json.loads(plain) if plain else {}
                    connection.execute(insert(case_entries).values(
                        case_id=case.id, kind=TURN, at=float(entry.get("at", now)), payload=token))
                self._add_entry(connection, case.id, EVENT, self._event("opened", "bot", reason, at=now))
        except IntegrityError:
            existing = self.current_for(person)
            if existing is not None and existing.active:
                return existing
            raise
        self.publish(case, "opened")
        self._report("escalation", case, now, f"{priority}|{reason}")
        return case

    def reopen(self, case: Case, priority: str, reason: str, number: str, now: float | None = None) -> Case:
        """Reopen a recently closed case instead of starting a new one."""
        now = now or time.time()
        changes = dict(status="open", claimed_by="", outcome="", closed_at=0.0,
                       priority=min(case.priority, priority, key=PRIORITY_ORDER.index), reason=reason,
                       updated_at=now, reopened=case.reopened + 1, contact=self.vault.encrypt(number),
                       waiting_since=now, claimed_at=0.0, first_reply_at=0.0)
        try:
            self._change(case, changes, expect={"status": "closed"},
                         entries=[(EVENT, self._event("reopened", "bot", reason, at=now))])
        except (CaseConflict, IntegrityError):
            fresh = self.current_for(case.person)
            if fresh is not None and fresh.active:
                return fresh
            raise
        self.publish(case, "reopened")
        self._report("escalation", case, now, f"{case.priority}|{reason}")
        return case

    def escalate_priority(self, case: Case, priority: str, reason: str) -> None:
        """Raise an active case's priority when a later message is more severe."""
        if PRIORITY_ORDER.index(priority) < PRIORITY_ORDER.index(case.priority):
            less_urgent = tuple(PRIORITY_ORDER[PRIORITY_ORDER.index(priority) + 1:])
            try:
                self._change(case, dict(priority=priority, reason=reason, updated_at=time.time()),
                             expect={"priority": less_urgent},
                             entries=[(EVENT, self._event("priority", "bot", f"{priority}: {reason}"))])
            except CaseConflict:
                return
            self.publish(case, "priority")

    def _trim_turns(self, case_id: str) -> None:
        """Keep only a case's newest max_turns transcript turns."""
        with self.db.begin() as connection:
            older = list(connection.execute(
                select(case_entries.c.id).where(case_entries.c.case_id == case_id, case_entries.c.kind == TURN)
                .order_by(case_entries.c.id.desc()).offset(self.max_turns)).scalars())
            if older:
                connection.execute(delete(case_entries).where(case_entries.c.id.in_(older)))

    def add_turn(self, case: Case, role: str, text: str, author: str = "") -> None:
        """Append an encrypted turn (user, bot or staff) to a case's transcript."""
        now = time.time()
        entry: dict[str, object] = {"role": role, "at": now, "text": text, "author": author}
        changes: dict[str, Any] = {"updated_at": now}
        entries: list[tuple[str, dict[str, object]]] = [(TURN, entry)]
        first_reply = role == "staff" and not case.first_reply_at
        if role == "user":
            changes["last_user_at"] = now
        elif role == "staff":
            changes["last_staff_at"] = now
            if first_reply:
                changes["first_reply_at"] = now
            entries.append((EVENT, self._event("reply", author, at=now)))
        self._change(case, changes, entries=entries)
        if first_reply:
            self._report("first_reply", case, now, case.priority, since=case.waiting_since or case.created_at)
        self._trim_turns(case.id)
        self.publish(case, "message", author)

    def add_note(self, case: Case, author: str, text: str) -> None:
        """Append an internal staff note to a case."""
        now = time.time()
        self._change(case, {"updated_at": now}, entries=[(NOTE, {"at": now, "author": author, "text": text}),
                                                          (EVENT, self._event("note", author, at=now))])
        self.publish(case, "note", author)

    def update(self, case: Case, event: str, by: str = "", detail: str = "",
               expect: dict[str, Any] | None = None, **changes: object) -> Case:
        """Change fields of a case (only if it still matches `expect`), add the event to its timeline
        and announce it. Raises CaseConflict when `expect` no longer holds."""
        now = time.time()
        values: dict[str, Any] = dict(changes)
        if "safe_to_text" in changes:
            values["safe_to_text_at"] = now
            event, detail = ("safe_to_text" if event == "updated" else event), detail or str(changes["safe_to_text"])
        first_claim = changes.get("status") == "claimed" and not case.claimed_at
        if first_claim:
            values["claimed_at"] = now
        values["updated_at"] = now
        entries: list[tuple[str, dict[str, object]]] = []
        if event != "updated":
            facts = {"to": str(changes["claimed_by"])} if event == "transferred" else {}
            if "outcome" in changes:
                facts["outcome"] = str(changes["outcome"])
            by_whom = by or ("system" if event == "reminder" else "")
            entries.append((EVENT, self._event(event, by_whom, detail, at=now, **facts)))
        was_active, waiting_since = case.active, case.waiting_since or case.created_at
        self._change(case, values, expect=expect, entries=entries)
        self.publish(case, event, by)
        if first_claim:
            self._report("claimed", case, now, case.priority, since=waiting_since)
        elif event == "reminder":
            self._report("reminder", case, now, case.priority)
        if was_active and changes.get("status") == "closed":
            self._report("closed", case, now, case.outcome, since=waiting_since)
        return case

    def erase_for_person(self, person: str) -> list[Case]:
        """Erase every case of a person: transcripts, notes, timelines, number and the link to them go;
        each case stays as a closed shell with a note saying why."""
        if not person:
            return []
        now = time.time()
        with self.db.begin() as connection:
            rows = [c for c in map(_case_from, connection.execute(select(cases).where(cases.c.person == person)))
                    if c is not None]
            ids = [c.id for c in rows]
            if not ids:
                return []
            connection.execute(delete(case_entries).where(case_entries.c.case_id.in_(ids)))
            active = [c.id for c in rows if c.active]
            if active:
                connection.execute(update(cases).where(cases.c.id.in_(active)).values(
                    status="closed", outcome="erased_by_person", closed_at=now))
            connection.execute(update(cases).where(cases.c.id.in_(ids)).values(
                person="", contact="", updated_at=now, version=cases.c.version + 1,
                expires_at=now + self.closed_retention))
            note = {"at": now, "author": "system", "text": "The person asked for deletion: transcript erased."}
            for case_id in ids:
                self._add_entry(connection, case_id, NOTE, note)
            erased = [c for c in map(_case_from, connection.execute(select(cases).where(cases.c.id.in_(ids))))
                      if c is not None]
        for case in erased:
            self.publish(case, "closed")
            if case.id in active:
                self._report("closed", case, now, "erased_by_person", since=case.waiting_since or case.created_at)
        return erased

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every case (and all it owns) whose retention has run out; return how many."""
        horizon = now or time.time()
        with self.db.begin() as connection:
            ids = list(connection.execute(select(cases.c.id).where(cases.c.expires_at <= horizon)).scalars())
            if ids:
                connection.execute(delete(case_entries).where(case_entries.c.case_id.in_(ids)))
                connection.execute(delete(cases).where(cases.c.id.in_(ids)))
        return len(ids)
