"""Re-encrypt everything stored encrypted under the newest key (`lantern rotate-keys`).

Rotation: put a new key FIRST in ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then remove the old key from ENCRYPTION_KEYS and restart again.
Generate a key with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

from __future__ import annotations

import sys

from redis import Redis

from bot.core.identity import Vault
from bot.core.store import Keys


def rotate_all(redis: Redis, keys: Keys, vault: Vault) -> int:
    """Re-encrypt transcripts, case transcripts, notes and timelines, and contact numbers; return the count."""
    count = 0
    for key in redis.scan_iter(match=f"{keys.prefix}*", count=1000):
        kind = redis.type(key)
        encrypted_list = key.endswith((":transcript", ":notes", ":timeline")) or f"{keys.prefix}transcript:" in key
        if kind == "list" and encrypted_list:
            for index, token in enumerate(redis.lrange(key, 0, -1)):
                redis.lset(key, index, vault.rotate(token))
                count += 1
        elif kind == "hash" and key.startswith(f"{keys.prefix}case:"):
            contact = redis.hget(key, "contact")
            if contact:
                redis.hset(key, "contact", vault.rotate(contact))
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Rotate every encrypted value in Redis to the primary key."""
    from bot.core.settings import Settings
    from bot.core.store import connect

    settings = Settings.from_env()
    vault = Vault(settings.encryption_keys, settings.secret_key)
    count = rotate_all(connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix), vault)
    print(f"Re-encrypted {count} value(s) under the primary key.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
