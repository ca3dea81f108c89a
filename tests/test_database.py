"""The durable store on both databases Lantern supports: SQLite (make run) and PostgreSQL (deployments)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, inspect, select, text

from bot.core.database import Database, cases, metadata
from bot.core.identity import Vault
from bot.core.store import Keys
from bot.handoff.cases import Case, CaseConflict, CaseStore
from bot.staff.accounts import AccountError, Accounts
from tests.conftest import FAST_REDIS_URL

POSTGRES_SERVER = os.environ.get("LANTERN_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
NUMBER = "+254711000001"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh, migrated database of each kind: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        folder = tempfile.mkdtemp(prefix="lantern-db-")
        database = Database(f"sqlite:///{folder}/lantern.db")
        database.upgrade()
        yield database
        database.dispose()
        for path in Path(folder).iterdir():
            path.unlink()
        Path(folder).rmdir()
        return
    schema = f"lantern_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(POSTGRES_SERVER, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}")
    try:
        database.upgrade()
        yield database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis() -> Iterator[Redis]:
    """The fast tests' Redis database, emptied before and after."""
    client = Redis.from_url(FAST_REDIS_URL, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def store(db: Database, redis: Redis) -> CaseStore:
    """A case store on the database under test."""
    return CaseStore(db, redis, Keys("lantern:", "lantern"), Vault((), "test-secret"), 3600, 7200)


def open_case(store: CaseStore, person: str = "person-a", priority: str = "urgent") -> Case:
    """Open a case for a person."""
    return store.open(person, NUMBER, "sms", "sw", priority, "confinement", [])


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run calls in threads released together; return each result or the exception it raised."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        start.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_migrations_create_every_table_and_running_them_again_changes_nothing(db: Database) -> None:
    assert set(inspect(db.engine).get_table_names()) >= {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    assert at_once(db.upgrade, db.upgrade) == [None, None]
    started = [subprocess.Popen([sys.executable, "-c", "import sys; from bot.core.database import Database; "
                                 "Database(sys.argv[1]).upgrade()", str(db.engine.url.render_as_string(False))],
                                env={**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}) for _ in range(3)]
    assert [process.wait(60) for process in started] == [0, 0, 0], "processes starting together all succeed"
    with db.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"


def test_a_case_keeps_its_story_encrypted_and_the_number_never_in_clear(store: CaseStore, db: Database) -> None:
    case = open_case(store)
    store.add_turn(case, "user", "they took my passport")
    store.update(case, "claimed", by="amina", expect={"status": "open"}, status="claimed", claimed_by="amina")
    store.add_turn(case, "staff", "We are here. Are you safe?", author="amina")
    store.add_note(case, "amina", "Prefers Swahili.")
    store.update(case, "closed", by="amina", detail="Referred.", status="closed", outcome="referred")
    again = store.get(case.id)
    assert again is not None and again.status == "closed" and again.outcome == "referred"
    assert again.claimed_at >= again.created_at and again.first_reply_at >= again.claimed_at
    assert [t["text"] for t in store.transcript(case.id)] == ["they took my passport", "We are here. Are you safe?"]
    assert [n["text"] for n in store.notes(case.id)] == ["Prefers Swahili."]
    assert [e["event"] for e in store.timeline(case.id)] == ["opened", "claimed", "reply", "note", "closed"]
    assert store.contact_number(again) == NUMBER
    with db.connect() as connection:
        dump = " ".join(str(value) for table in metadata.sorted_tables
                        for row in connection.execute(select(table)) for value in row)
    assert "711000001" not in dump and "passport" not in dump and "Swahili" not in dump


def test_of_two_colleagues_claiming_at_once_exactly_one_gets_the_case(store: CaseStore) -> None:
    case = open_case(store)
    copies = [store.get(case.id) for _ in range(4)]
    results = at_once(*[lambda c=c, name=name: store.update(  # type: ignore[misc]
        c, "claimed", by=name, expect={"status": "open"}, status="claimed", claimed_by=name)
        for c, name in zip(copies, ["amina", "juma", "wanjiru", "otieno"], strict=True)])
    assert sum(isinstance(r, Case) for r in results) == 1
    assert sum(isinstance(r, CaseConflict) for r in results) == 3
    winner = store.get(case.id)
    assert winner is not None and winner.status == "claimed"
    assert [e["event"] for e in store.timeline(case.id)].count("claimed") == 1


def test_a_message_handled_from_a_stale_copy_never_undoes_a_claim(store: CaseStore) -> None:
    case = open_case(store)
    stale = store.get(case.id)
    assert stale is not None
    store.update(case, "claimed", by="amina", expect={"status": "open"}, status="claimed", claimed_by="amina")
    store.add_turn(stale, "user", "are you there?")  # the gateway read the case before the claim
    store.update(stale, "updated", language="en")
    now = store.get(case.id)
    assert now is not None and (now.status, now.claimed_by, now.language) == ("claimed", "amina", "en")
    assert stale.status == "claimed", "the caller's copy is brought up to date"


def test_two_gateways_opening_a_case_for_one_person_at_once_make_one_case(store: CaseStore) -> None:
    results = at_once(*[lambda: open_case(store, "person-b") for _ in range(4)])
    ids = {r.id for r in results if isinstance(r, Case)}
    assert len(ids) == 1, results
    assert [c.id for c in store.queue()] == list(ids)


def test_the_queue_is_most_urgent_first_then_oldest(store: CaseStore) -> None:
    routine = store.open("p1", NUMBER, "sms", "en", "normal", "r", [], now=time.time() - 30)
    urgent = store.open("p2", NUMBER, "sms", "en", "urgent", "r", [], now=time.time() - 20)
    emergency = store.open("p3", NUMBER, "sms", "en", "emergency", "r", [], now=time.time() - 10)
    older_urgent = store.open("p4", NUMBER, "sms", "en", "urgent", "r", [], now=time.time() - 40)
    assert [c.id for c in store.queue()] == [emergency.id, older_urgent.id, urgent.id, routine.id]
    store.escalate_priority(routine, "emergency", "threat")
    assert store.queue()[0].id == routine.id and routine.priority == "emergency"  # the oldest emergency


def test_erasure_and_retention_apply_to_the_database(store: CaseStore) -> None:
    first = open_case(store, "person-c")
    store.add_turn(first, "user", "help")
    store.update(first, "closed", status="closed", outcome="resolved")
    second = open_case(store, "person-c")
    erased = store.erase_for_person("person-c")
    assert {c.id for c in erased} == {first.id, second.id}
    for case_id in (first.id, second.id):
        shell = store.get(case_id)
        assert shell is not None and shell.person == "" and shell.contact == "" and shell.status == "closed"
        assert store.transcript(case_id) == [] and store.timeline(case_id) == []
    assert store.current_for("person-c") is None and store.queue() == []
    assert store.purge_expired(time.time() + 7200 + 1) == 2
    assert store.get(first.id) is None


def test_staff_accounts_and_the_audit_log_outlive_redis(db: Database, redis: Redis) -> None:
    from bot.core.services import Services
    from bot.staff.audit import audit, recent_audit

    accounts = Accounts(db, redis, Keys("lantern:", "lantern"))
    accounts.create("amina", "a-long-enough-password", "supervisor", ("sw",))
    with pytest.raises(AccountError):
        accounts.create("amina", "another-long-password", "staff")
    svc = Services.__new__(Services)
    svc.db = db
    audit(svc, "amina", "claim", "abc123", "x" * 500)
    redis.flushdb()  # Redis lost
    user = accounts.authenticate("amina", "a-long-enough-password")
    assert user is not None and user.supervisor and user.languages == ("sw",)
    entries = recent_audit(svc)
    assert [(e["staff"], e["action"], e["case"]) for e in entries] == [("amina", "claim", "abc123")]
    assert len(entries[0]["detail"]) == 200
    assert db.purge_audit_log(60, now=time.time() + 120) == 1 and recent_audit(svc) == []


def test_reads_never_show_an_expired_case_even_before_the_purge(store: CaseStore, db: Database) -> None:
    case = open_case(store)
    with db.begin() as connection:
        connection.execute(cases.update().where(cases.c.id == case.id).values(expires_at=time.time() - 1))
    assert store.get(case.id) is None and store.current_for("person-a") is None and store.queue() == []
