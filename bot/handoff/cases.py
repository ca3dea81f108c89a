"""Cases handed to hotline staff: open -> claimed -> closed, with an encrypted transcript."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, fields

from redis import Redis

from bot.conversation.risk import PRIORITY_ORDER
from bot.core.identity import Vault
from bot.core.store import Keys

ACTIVE = ("open", "claimed")
_SCORE_STEP = 10_000_000_000


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
    last_user_at: float = 0.0  # the person's latest message on the case
    last_staff_at: float = 0.0  # the latest staff reply
    safe_to_text_at: float = 0.0  # when the person last answered "is it safe to text?"

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


def _case_from(raw: dict[str, str]) -> Case | None:
    """Build a case from its stored hash (None when it has expired)."""
    if not raw:
        return None
    names = {f.name: f.type for f in fields(Case)}
    values: dict[str, object] = {}
    for name, value in raw.items():
        if name in names:
            kind = str(names[name])
            values[name] = float(value) if kind == "float" else int(value) if kind == "int" else value
    return Case(**values)  # type: ignore[arg-type]


def _queue_score(case: Case) -> float:
    """Order active cases by priority, then age."""
    return PRIORITY_ORDER.index(case.priority) * _SCORE_STEP + case.created_at


class CaseStore:
    """Store escalations in Redis and announce every change to staff consoles."""

    def __init__(self, redis: Redis, keys: Keys, vault: Vault, retention: int, closed_retention: int,
                 max_turns: int = 500) -> None:
        self.redis = redis
        self.keys = keys
        self.vault = vault
        self.retention = retention
        self.closed_retention = closed_retention
        self.max_turns = max_turns

    # --- reading ---------------------------------------------------------------------
    def get(self, case_id: str) -> Case | None:
        """Load a case by id."""
        return _case_from(self.redis.hgetall(self.keys.case(case_id)))

    def current_for(self, person: str) -> Case | None:
        """Return the person's latest case (active or recently closed), if any."""
        case_id = self.redis.get(self.keys.person_case(person))
        return self.get(case_id) if case_id else None

    def _load_indexed(self, index: str, ids: list[str]) -> list[Case]:
        """Load cases listed in an index (in one round trip), dropping ids whose case has expired."""
        pipe = self.redis.pipeline(transaction=False)
        for case_id in ids:
            pipe.hgetall(self.keys.case(case_id))
        cases = [_case_from(raw) for raw in pipe.execute()] if ids else []
        expired = [case_id for case_id, case in zip(ids, cases, strict=True) if case is None]
        if expired:
            self.redis.zrem(index, *expired)
        return [c for c in cases if c is not None]

    def queue(self) -> list[Case]:
        """Return active cases, most urgent and oldest first."""
        return self._load_indexed(self.keys.open_cases, self.redis.zrange(self.keys.open_cases, 0, -1))

    def recent(self, limit: int = 50) -> list[Case]:
        """Return the newest cases of any status."""
        return self._load_indexed(self.keys.all_cases, self.redis.zrevrange(self.keys.all_cases, 0, limit - 1))

    def opened_since(self, since: float, limit: int | None = None) -> list[Case]:
        """Return every case opened after a time, whatever its status, oldest first."""
        ids = self.redis.zrangebyscore(self.keys.all_cases, f"({since}", "+inf", start=0 if limit else None,
                                       num=limit)
        return self._load_indexed(self.keys.all_cases, ids)

    def _decrypted_entries(self, key: str) -> list[dict[str, object]]:
        """Return the readable entries of an encrypted list, oldest first."""
        entries = []
        for token in self.redis.lrange(key, 0, -1):
            plain = self.vault.try_decrypt(token)
            if plain is not None:
                entries.append(json.loads(plain))
        return entries

    def transcript(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's decrypted transcript, oldest first."""
        return self._decrypted_entries(self.keys.case_transcript(case_id))

    def notes(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's internal staff notes."""
        return self._decrypted_entries(self.keys.case_notes(case_id))

    def timeline(self, case_id: str) -> list[dict[str, object]]:
        """Return a case's events (who did what, when), oldest first."""
        return self._decrypted_entries(self.keys.case_timeline(case_id))

    def earlier_cases(self, case: Case) -> list[Case]:
        """Return the same person's other cases (found by keyed hash), newest first."""
        index = self.keys.person_cases(case.person)
        ids = [i for i in self.redis.zrevrange(index, 0, 49) if i != case.id]
        return self._load_indexed(index, ids)

    def contact_number(self, case: Case) -> str | None:
        """Decrypt the number to reply to for a case."""
        return self.vault.try_decrypt(case.contact) if case.contact else None

    # --- writing ---------------------------------------------------------------------
    def _save(self, case: Case, with_contact: bool = False) -> None:
        """Write a case, index it and refresh the TTL of everything it owns.

        The encrypted number is written only when it changes (with_contact): a save from a
        copy read before `lantern rotate-keys` must not put back the old ciphertext."""
        ttl = self.retention if case.active else self.closed_retention
        key = self.keys.case(case.id)
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping={k: str(v) for k, v in asdict(case).items() if with_contact or k != "contact"})
        for owned in (key, self.keys.case_transcript(case.id), self.keys.case_notes(case.id),
                      self.keys.case_timeline(case.id)):
            pipe.expire(owned, ttl)
        if case.person:  # an erased case is linked to nobody
            pipe.set(self.keys.person_case(case.person), case.id, ex=ttl)
            pipe.zadd(self.keys.person_cases(case.person), {case.id: case.created_at})
            pipe.expire(self.keys.person_cases(case.person), max(self.retention, self.closed_retention))
        if case.active:
            pipe.zadd(self.keys.open_cases, {case.id: _queue_score(case)})
        else:
            pipe.zrem(self.keys.open_cases, case.id)
        pipe.zadd(self.keys.all_cases, {case.id: case.created_at})
        pipe.execute()

    def publish(self, case: Case, event: str, by: str = "") -> None:
        """Announce a case change to connected consoles (ids, status and who; never text)."""
        payload = {"event": event, "by": by, "case": case.summary()}
        self.redis.publish(self.keys.case_events, json.dumps(payload))

    def record(
        self, case: Case, event: str, by: str = "", detail: str = "", at: float | None = None, **facts: str
    ) -> None:
        """Add an event to a case's encrypted timeline (the detail may hold a hand-over note)."""
        entry: dict[str, object] = {"at": at or time.time(), "event": event, "by": by, "detail": detail, **facts}
        key = self.keys.case_timeline(case.id)
        self.redis.rpush(key, self.vault.encrypt(json.dumps(entry)))
        self.redis.expire(key, self.retention if case.active else self.closed_retention)

    def open(
        self, person: str, number: str, channel: str, language: str, priority: str, reason: str,
        earlier_turns: list[str], now: float | None = None,
    ) -> Case:
        """Open a case for a person, seeded with their recent encrypted turns."""
        now = now or time.time()
        case = Case(
            id=secrets.token_hex(6), person=person, status="open", priority=priority,
            language=language, channel=channel, reason=reason, created_at=now, updated_at=now,
            contact=self.vault.encrypt(number), waiting_since=now,
        )
        if earlier_turns:
            self.redis.rpush(self.keys.case_transcript(case.id), *earlier_turns)
        self._save(case, with_contact=True)
        self.record(case, "opened", "bot", reason, at=now)
        self.publish(case, "opened")
        return case

    def reopen(self, case: Case, priority: str, reason: str, number: str, now: float | None = None) -> Case:
        """Reopen a recently closed case instead of starting a new one."""
        now = now or time.time()
        case.status, case.claimed_by, case.outcome, case.closed_at = "open", "", "", 0.0
        case.priority = min(case.priority, priority, key=PRIORITY_ORDER.index)
        case.reason, case.updated_at, case.reopened = reason, now, case.reopened + 1
        case.contact, case.waiting_since, case.claimed_at = self.vault.encrypt(number), now, 0.0
        self._save(case, with_contact=True)
        self.record(case, "reopened", "bot", reason, at=now)
        self.publish(case, "reopened")
        return case

    def escalate_priority(self, case: Case, priority: str, reason: str) -> None:
        """Raise an active case's priority when a later message is more severe."""
        if PRIORITY_ORDER.index(priority) < PRIORITY_ORDER.index(case.priority):
            case.priority, case.reason, case.updated_at = priority, reason, time.time()
            self._save(case)
            self.record(case, "priority", "bot", f"{priority}: {reason}")
            self.publish(case, "priority")

    def add_turn(self, case: Case, role: str, text: str, author: str = "") -> None:
        """Append an encrypted turn (user, bot or staff) to a case's transcript."""
        now = time.time()
        entry = {"role": role, "at": now, "text": text, "author": author}
        self.redis.rpush(self.keys.case_transcript(case.id), self.vault.encrypt(json.dumps(entry)))
        self.redis.ltrim(self.keys.case_transcript(case.id), -self.max_turns, -1)
        case.updated_at = now
        if role == "user":
            case.last_user_at = now
        elif role == "staff":
            case.last_staff_at = now
            self.record(case, "reply", author, at=now)
        self._save(case)
        self.publish(case, "message", author)

    def add_note(self, case: Case, author: str, text: str) -> None:
        """Append an internal staff note to a case."""
        entry = {"at": time.time(), "author": author, "text": text}
        self.redis.rpush(self.keys.case_notes(case.id), self.vault.encrypt(json.dumps(entry)))
        self._save(case)
        self.record(case, "note", author, at=float(str(entry["at"])))
        self.publish(case, "note", author)

    def update(self, case: Case, event: str, by: str = "", detail: str = "", **changes: object) -> Case:
        """Change fields of a case, save it, add the event to its timeline and announce it."""
        now = time.time()
        for name, value in changes.items():
            setattr(case, name, value)
        if "safe_to_text" in changes:
            case.safe_to_text_at = now
            event, detail = ("safe_to_text" if event == "updated" else event), detail or str(changes["safe_to_text"])
        if changes.get("status") == "claimed" and not case.claimed_at:
            case.claimed_at = now
        case.updated_at = now
        self._save(case, with_contact="contact" in changes)
        if event != "updated":
            facts = {"to": str(changes["claimed_by"])} if event == "transferred" else {}
            if "outcome" in changes:
                facts["outcome"] = str(changes["outcome"])
            self.record(case, event, by or ("system" if event == "reminder" else ""), detail, at=now, **facts)
        self.publish(case, event, by)
        return case

    def erase_for_person(self, person: str) -> list[Case]:
        """Erase every case of a person (per-person index, no scan): transcripts, notes, number and
        the link to them go; each case stays as a closed shell with a note saying why."""
        ids = set(self.redis.zrange(self.keys.person_cases(person), 0, -1))
        ids |= {self.redis.get(self.keys.person_case(person))} - {None}
        erased = [self._erase(case) for case in map(self.get, sorted(ids)) if case is not None]
        self.redis.delete(self.keys.person_cases(person), self.keys.person_case(person))
        return erased

    def _erase(self, case: Case) -> Case:
        """Empty one case of everything about the person and close it."""
        now = time.time()
        if case.active:
            case.status, case.outcome, case.closed_at = "closed", "erased_by_person", now
        case.person, case.contact, case.updated_at = "", "", now
        note = {"at": now, "author": "system", "text": "The person asked for deletion: transcript erased."}
        key, notes = self.keys.case(case.id), self.keys.case_notes(case.id)
        pipe = self.redis.pipeline()
        pipe.delete(self.keys.case_transcript(case.id), self.keys.case_timeline(case.id), notes)
        pipe.hset(key, mapping={k: str(v) for k, v in asdict(case).items()})
        pipe.rpush(notes, self.vault.encrypt(json.dumps(note)))
        pipe.expire(key, self.closed_retention)
        pipe.expire(notes, self.closed_retention)
        pipe.zrem(self.keys.open_cases, case.id)
        pipe.execute()
        self.publish(case, "closed")
        return case

    def prune_index(self, now: float | None = None) -> int:
        """Drop ids from the index of every case once no case that old can still exist."""
        horizon = (now or time.time()) - self.retention - self.closed_retention
        return int(self.redis.zremrangebyscore(self.keys.all_cases, "-inf", horizon))
