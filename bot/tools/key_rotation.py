"""Re-encrypt everything stored encrypted under the newest key (`lantern rotate-keys`).

Rotation: put a new key FIRST in ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then remove the old key from ENCRYPTION_KEYS and restart again.
Generate a key with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Each record (a person's recent turns, a Rasa tracker in Redis; a case's number, transcript turn, note
or timeline entry in the database) is replaced in one transaction that fails if it changed meanwhile
(then it is read again), so a turn appended or a
list trimmed during rotation is never lost or overwritten. A value no configured key can read is
kept as it is and reported. When everything was readable, the key derived from SECRET_KEY is
retired: it is no longer tried for reading (ENCRYPTION_KEYS alone protect the data).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError
from sqlalchemy import Column, Table, select, update

from bot.core.database import Database, case_entries, cases
from bot.core.identity import Vault
from bot.core.store import Keys

MAX_ATTEMPTS = 50  # a record rewritten more often than this during rotation is reported, not rotated


@dataclass
class RotationReport:
    """What rotation did: values re-encrypted, and where it could not."""

    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    retired_derived_key: bool = False


def _rotated(vault: Vault, token: str) -> str | None:
    """Re-encrypt one token under the primary key, or None when no key reads it."""
    try:
        return vault.rotate(token)
    except InvalidToken:
        return None


def _rotate_list(pipe: Pipeline, key: str, vault: Vault, report: RotationReport) -> None:
    """Re-encrypt every entry of a list in place (the list is read again if it changes)."""
    tokens = pipe.lrange(key, 0, -1)
    ttl = pipe.pttl(key)
    if not tokens:
        return
    rotated = [_rotated(vault, token) for token in tokens]
    pipe.multi()
    pipe.delete(key)
    pipe.rpush(key, *[new or old for new, old in zip(rotated, tokens, strict=True)])
    if ttl > 0:
        pipe.pexpire(key, ttl)
    pipe.execute()
    report.rotated += sum(new is not None for new in rotated)
    report.unreadable += [f"{key}[{index}]" for index, new in enumerate(rotated) if new is None]


def _rotate_value(pipe: Pipeline, key: str, vault: Vault, report: RotationReport, hash_field: str = "") -> None:
    """Re-encrypt a string value, or one field of a hash."""
    token = pipe.hget(key, hash_field) if hash_field else pipe.get(key)
    ttl = pipe.pttl(key)
    if not token:
        return
    new = _rotated(vault, token)
    if new is None:
        report.unreadable.append(f"{key}#{hash_field}" if hash_field else key)
        return
    pipe.multi()
    if hash_field:
        pipe.hset(key, hash_field, new)
    else:
        pipe.set(key, new, px=ttl if ttl > 0 else None)
    pipe.execute()
    report.rotated += 1


def rotate_record(redis: Redis, key: str, kind: str, vault: Vault, report: RotationReport) -> None:
    """Rotate one record atomically, retrying while someone else changes it."""
    with redis.pipeline() as pipe:
        for _ in range(MAX_ATTEMPTS):
            try:
                pipe.watch(key)
                if kind == "list":
                    _rotate_list(pipe, key, vault, report)
                else:
                    _rotate_value(pipe, key, vault, report, "contact" if kind == "hash" else "")
                return
            except WatchError:
                continue
            finally:
                pipe.reset()
    report.busy.append(key)


def encrypted_records(redis: Redis, keys: Keys) -> list[tuple[str, str]]:
    """Find every record stored encrypted, with its kind (list, hash field, string)."""
    found: dict[str, str] = {}
    for key in redis.scan_iter(match=f"{keys.prefix}*", count=1000):
        kind = redis.type(key)
        if kind == "list" and key.startswith(keys.transcript("")):
            found[key] = "list"
    for key in redis.scan_iter(match=keys.rasa_tracker("*"), count=1000):
        found[key] = "string"
    return sorted(found.items())


def _rotate_column(db: Database, table: Table, key: Column, column: Column, vault: Vault,
                   report: RotationReport) -> None:
    """Re-encrypt one encrypted column of a table; each row is replaced only if unchanged meanwhile."""
    with db.connect() as connection:
        rows = connection.execute(select(key, column).where(column != "")).all()
    for row_id, token in rows:
        new = _rotated(vault, token)
        if new is None:
            report.unreadable.append(f"{table.name}.{column.name}[{row_id}]")
            continue
        with db.begin() as connection:
            if connection.execute(update(table).where(key == row_id, column == token).values({column.name: new}))\
                    .rowcount:
                report.rotated += 1


def rotate_database(db: Database, vault: Vault, report: RotationReport) -> None:
    """Re-encrypt the cases' numbers and every transcript turn, note and timeline entry."""
    _rotate_column(db, cases, cases.c.id, cases.c.contact, vault, report)
    _rotate_column(db, case_entries, case_entries.c.id, case_entries.c.payload, vault, report)


def rotate_all(redis: Redis, keys: Keys, vault: Vault, db: Database | None = None) -> RotationReport:
    """Re-encrypt transcripts, notes, case numbers and Rasa trackers; retire the derived key when
    configured keys now protect everything."""
    report = RotationReport()
    for key, kind in encrypted_records(redis, keys):
        rotate_record(redis, key, kind, vault, report)
    if db is not None:
        rotate_database(db, vault, report)
    if vault.explicit and not report.unreadable and not report.busy:
        redis.sadd(keys.retired_keys, vault.derived_fingerprint)
        report.retired_derived_key = True
    return report


def main(argv: list[str] | None = None) -> int:
    """Rotate every encrypted value in Redis to the primary key; exit 1 if some could not be."""
    from bot.core.identity import open_vault
    from bot.core.settings import Settings
    from bot.core.store import connect

    settings = Settings.from_env()
    redis, keys = connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix)
    report = rotate_all(redis, keys, open_vault(settings.encryption_keys, settings.secret_key, redis,
                                                keys.retired_keys), Database(settings.database_url))
    print(f"Re-encrypted {report.rotated} value(s) under the primary key.")
    for where in report.unreadable:
        print(f"  unreadable with every configured key (kept as is): {where}")
    for where in report.busy:
        print(f"  changed too often to rotate now (run again): {where}")
    if report.retired_derived_key:
        print("Everything is under ENCRYPTION_KEYS: the key derived from SECRET_KEY is no longer used.")
    return 1 if report.unreadable or report.busy else 0


if __name__ == "__main__":
    sys.exit(main())
