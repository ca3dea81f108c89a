"""Write a fresh .env with newly generated secrets on a fresh checkout (`lantern run`)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

HEADER = """\
# Written by `lantern run` on first start, with secrets generated for this installation only.
# Keep this file private (mode 0600) and out of version control; .env.example documents every
# other setting. Changing SENDER_HASH_KEY forgets everyone; for ENCRYPTION_KEYS see README.md,
# "Key rotation".
"""
TWILIO_NOTE = """\
# Twilio's auth token is Twilio's, not ours: paste it from the Twilio console (Account info).
# Until then the development token is used, which only `make chat` knows.
# TWILIO_AUTH_TOKEN=
"""


def fresh_secrets() -> dict[str, str]:
    """Return new, independent secrets for every setting Lantern generates."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SENDER_HASH_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),  # a Fernet key
        "RASA_TOKEN": secrets.token_urlsafe(32),
        "STAFF_API_TOKEN": secrets.token_urlsafe(32),
    }


def write_fresh_dotenv(path: Path) -> bool:
    """Create a .env (mode 0600) with fresh secrets unless one exists; say whether it was written."""
    text = HEADER + "".join(f"{name}={value}\n" for name, value in fresh_secrets().items()) + TWILIO_NOTE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, 0o600)  # a umask cannot widen it, but be explicit
    return True
