"""The relational database: what must outlive a Redis restart (cases, accounts, audit, events)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.core.settings import ROOT

log = logging.getLogger(__name__)
MIGRATIONS = ROOT / "migrations"
metadata = MetaData()

# A case: who it is about (keyed hash, '' once erased), its state and when each thing happened.
# `version` grows with every change (compare-and-set); `expires_at` is when retention deletes it.
cases = Table(
    "cases", metadata,
    Column("id", String(16), primary_key=True),
    Column("person", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reason", String(64), nullable=False, default=""),
    Column("contact", Text, nullable=False, default=""),  # the number, encrypted with the vault
    Column("claimed_by", String(64), nullable=False, default=""),
    Column("outcome", String(32), nullable=False, default=""),
    Column("safe_to_text", String(8), nullable=False, default="unknown"),
    Column("reopened", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("closed_at", Float, nullable=False, default=0.0),
    Column("reminded_at", Float, nullable=False, default=0.0),
    Column("waiting_since", Float, nullable=False, default=0.0),
    Column("claimed_at", Float, nullable=False, default=0.0),
    Column("first_reply_at", Float, nullable=False, default=0.0),
    Column("last_user_at", Float, nullable=False, default=0.0),
    Column("last_staff_at", Float, nullable=False, default=0.0),
    Column("safe_to_text_at", Float, nullable=False, default=0.0),
    Column("version", Integer, nullable=False, default=1),
    Column("expires_at", Float, nullable=False),
    Index("ix_cases_person", "person", "created_at"),
    Index("ix_cases_status", "status"),
    Index("ix_cases_created_at", "created_at"),
    Index("ix_cases_expires_at", "expires_at"),
    # At most one active case per person, whatever the races between gateways.
    Index("uq_cases_active_person", "person", unique=True,
          sqlite_where=text("status IN ('open', 'claimed') AND person != ''"),
          postgresql_where=text("status IN ('open', 'claimed') AND person != ''")),
)

# What happened on a case, encrypted: transcript turns, staff notes and timeline events.
case_entries = Table(
    "case_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(16), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # turn | note | event
    Column("at", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_case_entries_case", "case_id", "kind", "id"),
)

staff_accounts = Table(
    "staff_accounts", metadata,
    Column("username", String(32), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("languages", String(128), nullable=False, default=""),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("staff", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("case_id", String(32), nullable=False, default=""),
    Column("detail", String(200), nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
)

# PII-free events for reports: bucketed to the hour, a daily-salted contact tag to count people per day.
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hour", Float, nullable=False),  # start of the UTC hour it happened in
    Column("day", String(10), nullable=False),  # YYYY-MM-DD (UTC)
    Column("kind", String(32), nullable=False),
    Column("channel", String(16), nullable=False, default=""),
    Column("language", String(8), nullable=False, default=""),
    Column("detail", String(64), nullable=False, default=""),
    Column("contact", String(24), nullable=False, default=""),
    Column("case_id", String(16), nullable=False, default=""),
    Column("value", Float, nullable=True),
    Index("ix_events_day_kind", "day", "kind"),
)


def engine_for(url: str) -> Engine:
    """Create an engine: SQLite files get WAL and a busy timeout, servers a checked pool."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Let readers and one writer work at once (WAL), wait for locks, enforce foreign keys."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """One engine per process and the schema kept at the newest migration."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Open a transaction that commits on success and rolls back on error."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Open a connection for reading."""
        with self.engine.connect() as connection:
            yield connection

    def upgrade(self, attempts: int = 5) -> None:
        """Apply every Alembic migration not yet applied (several processes may start at once:
        PostgreSQL serialises them with an advisory lock; SQLite retries on a lost race)."""
        for attempt in range(attempts):
            try:
                with self.engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(7318201)"))
                    run_migrations(connection)
                return
            except (OperationalError, ProgrammingError) as exc:
                if attempt == attempts - 1:
                    raise
                log.warning("migration raced another process; retrying", extra={"error": type(exc).__name__})
                time.sleep(0.5 * (attempt + 1))

    def purge_audit_log(self, older_than_seconds: float, now: float | None = None) -> int:
        """Delete staff audit entries older than their retention; return how many went."""
        horizon = (now or time.time()) - older_than_seconds
        with self.begin() as connection:
            return int(connection.execute(audit_log.delete().where(audit_log.c.at < horizon)).rowcount)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_MIGRATING = threading.Lock()  # Alembic keeps its context in module globals: one migration per process at a time


def run_migrations(connection: Connection, revision: str = "head") -> None:
    """Upgrade the schema on a connection with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    with _MIGRATING:
        command.upgrade(config, revision)
