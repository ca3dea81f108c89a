"""Pseudonymous sender ids (keyed hashes) and encryption at rest for what we must keep."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis import Redis
from redis.exceptions import RedisError


def sender_key(hash_key: str, number: str) -> str:
    """Return the keyed hash that stands for a phone number everywhere we store or log."""
    digest = hmac.new(hash_key.encode(), number.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def opaque_key(hash_key: str, value: str) -> str:
    """Return a keyed hash of any identifier (e.g. a MessageSid) for use in a Redis key."""
    return hmac.new(hash_key.encode(), b"id:" + value.encode(), hashlib.sha256).hexdigest()[:32]


def erased_marker_id(hash_key: str, person: str) -> str:
    """Return the id under which a person's erasure is marked (not their keyed hash)."""
    return opaque_key(hash_key, "erased:" + person)


def _derived_key(secret: str) -> bytes:
    """Derive a Fernet key from a secret when no explicit encryption key is configured."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lantern-at-rest", info=b"fernet")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def key_fingerprint(key: bytes) -> str:
    """Return a short public fingerprint of a key (safe to store or print)."""
    return hashlib.sha256(b"lantern-key:" + key).hexdigest()[:16]


class Vault:
    """Encrypt and decrypt personal data with the newest key; read with any listed key.

    The key derived from SECRET_KEY encrypts when ENCRYPTION_KEYS is empty. Once keys are
    configured it stays the last key tried for reading, so what it encrypted stays readable,
    until `lantern rotate-keys` has re-encrypted everything and retired it (keep_derived=False).
    """

    def __init__(self, keys: tuple[str, ...], fallback_secret: str, keep_derived: bool = True) -> None:
        self.derived = _derived_key(fallback_secret)
        material = [k.encode() for k in keys]
        if not material or (keep_derived and self.derived not in material):
            material.append(self.derived)
        self.explicit = bool(keys)
        self._fernet = MultiFernet([Fernet(k) for k in material])

    @property
    def derived_fingerprint(self) -> str:
        """Fingerprint of the key derived from SECRET_KEY (what rotation marks as retired)."""
        return key_fingerprint(self.derived)

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a string with the primary (first) key."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt a string encrypted with any configured key."""
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the primary key."""
        return self._fernet.rotate(token.encode()).decode()

    def try_decrypt(self, token: str) -> str | None:
        """Decrypt, or return None when no configured key can read the token."""
        try:
            return self.decrypt(token)
        except InvalidToken:
            return None


def open_vault(keys: tuple[str, ...], secret: str, redis: Redis, retired_key: str) -> Vault:
    """Build the vault, keeping the derived key for reading unless rotation has retired it.

    When Redis cannot be asked, the derived key is kept: reading old data matters more."""
    try:
        retired = bool(redis.sismember(retired_key, key_fingerprint(_derived_key(secret))))
    except RedisError:
        retired = False
    return Vault(keys, secret, keep_derived=not retired)
