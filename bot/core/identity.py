"""Pseudonymous sender ids (keyed hashes) and encryption at rest for what we must keep."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def sender_key(hash_key: str, number: str) -> str:
    """Return the keyed hash that stands for a phone number everywhere we store or log."""
    digest = hmac.new(hash_key.encode(), number.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def opaque_key(hash_key: str, value: str) -> str:
    """Return a keyed hash of any identifier (e.g. a MessageSid) for use in a Redis key."""
    return hmac.new(hash_key.encode(), b"id:" + value.encode(), hashlib.sha256).hexdigest()[:32]


def _derived_key(secret: str) -> bytes:
    """Derive a Fernet key from a secret when no explicit encryption key is configured."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lantern-at-rest", info=b"fernet")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


class Vault:
    """Encrypt and decrypt personal data with the newest key; read with any listed key."""

    def __init__(self, keys: tuple[str, ...], fallback_secret: str) -> None:
        material = [k.encode() for k in keys] or [_derived_key(fallback_secret)]
        self._fernet = MultiFernet([Fernet(k) for k in material])

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
