"""Privacy scans of Redis and logs: keys without TTL, numbers or message text in clear."""

from __future__ import annotations

from redis import Redis

# Key families about no texting person: the directory, staff accounts, the audit log, case indexes.
NOT_PERSONAL = ("directory:", "staff:user:", "staff:users", "audit", "cases:active", "cases:all")


def is_personal(key: str, prefix: str) -> bool:
    """Say whether a key may hold data about a texting person."""
    return not key.removeprefix(prefix).startswith(NOT_PERSONAL)


def keys_without_ttl(redis: Redis, prefix: str) -> list[str]:
    """Return personal keys that would never expire."""
    return [key for key in redis.scan_iter(f"{prefix}*", count=1000)
            if is_personal(key, prefix) and redis.ttl(key) == -1]


def secrets_in_redis(redis: Redis, prefix: str, number: str, words: list[str]) -> list[str]:
    """Find the phone number anywhere, and message words in gateway state (Rasa trackers excepted)."""
    findings = []
    digits = number.lstrip("+")
    for key in redis.scan_iter("*", count=1000):
        dump = str(redis.dump(key) or b"")
        if digits in key or digits in dump:
            findings.append(f"phone number in {key}")
        if key.startswith(prefix) and ":tracker:" not in key and is_personal(key, prefix):
            findings += [f"clear text {word!r} in {key}" for word in words if word in dump]
    return findings


def secrets_in_logs(logged: str, secrets: list[str]) -> list[str]:
    """Return every secret (number, words, profile name) that appears in log output."""
    return [f"{secret!r} in logs" for secret in secrets if secret in logged]
