"""Privacy scans of Redis, the database and logs: keys without TTL, numbers, message text or exact pins in clear."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import select

from bot.core.database import Database, metadata

# Key families about no texting person: the directory, staff accounts and sessions, the audit log,
# case indexes, retired-key fingerprints.
NOT_PERSONAL = ("directory:", "staff:", "audit", "cases:active", "cases:all", "vault:")


def is_personal(key: str, prefix: str) -> bool:
    """Say whether a key may hold data about a texting person."""
    return not key.removeprefix(prefix).startswith(NOT_PERSONAL)


def keys_without_ttl(redis: Redis, prefix: str) -> list[str]:
    """Return personal keys that would never expire."""
    return [key for key in redis.scan_iter(f"{prefix}*", count=1000)
            if is_personal(key, prefix) and redis.ttl(key) == -1]


def stored_text(redis: Redis, key: str) -> str:
    """Return everything a key holds as text (what someone with a copy of Redis could read)."""
    kind = redis.type(key)
    try:
        if kind == "string":
            return str(redis.get(key) or "")
        if kind == "list":
            return "\n".join(redis.lrange(key, 0, -1))
        if kind == "hash":
            return "\n".join(f"{k}={v}" for k, v in redis.hgetall(key).items())
        if kind == "set":
            return "\n".join(redis.smembers(key))
        if kind == "zset":
            return "\n".join(redis.zrange(key, 0, -1))
        if kind == "stream":
            return "\n".join(str(fields) for _, fields in redis.xrange(key))
    except UnicodeDecodeError:
        pass
    return str(redis.dump(key) or b"")


def secrets_in_redis(redis: Redis, prefix: str, number: str, words: list[str]) -> list[str]:
    """Find the phone number anywhere, and message words (or pin coordinates) in any personal key,
    Rasa's trackers included."""
    findings = []
    digits = number.lstrip("+")
    for key in redis.scan_iter("*", count=1000):
        value = stored_text(redis, key)
        if digits in key or digits in value:
            findings.append(f"phone number in {key}")
        if key.startswith(prefix) and is_personal(key, prefix):
            findings += [f"clear text {word!r} in {key}" for word in words if word in value]
    return findings


def secrets_in_database(db: Database, number: str, words: list[str]) -> list[str]:
    """Find the phone number or message words stored in clear in any table (what a copy of the database,
    or a backup of it, would show)."""
    digits = number.lstrip("+")
    findings = []
    with db.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    text = str(value)
                    if digits in text:
                        findings.append(f"phone number in {table.name}.{column}")
                    findings += [f"clear text {word!r} in {table.name}.{column}" for word in words if word in text]
    return sorted(set(findings))


def secrets_in_logs(logged: str, secrets: list[str]) -> list[str]:
    """Return every secret (number, words, profile name) that appears in log output."""
    return [f"{secret!r} in logs" for secret in secrets if secret in logged]
