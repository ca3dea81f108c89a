"""Staff accounts in Redis, with scrypt password hashes; managed only from the command line."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from functools import cache

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core.store import Keys

ROLES = ("staff", "supervisor")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_INPUT = 64  # longer input is refused before it is even normalised
PASSWORD_METHOD = "scrypt:131072:8:1"  # N=2^17, r=8, p=1 (OWASP); older hashes keep verifying
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Each scrypt hash takes 128 MiB for a moment: at most two at once per process, whatever the load.
_HASHING = threading.BoundedSemaphore(2)


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


def _languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    """Check and normalise language codes (lower-case letters, as in locales/)."""
    cleaned = tuple(dict.fromkeys(code.strip().lower() for code in codes if code.strip()))
    for code in cleaned:
        if not _LANGUAGE.match(code):
            raise AccountError(f"Not a language code: {code!r} (use codes such as sw, ar).")
    return cleaned


@dataclass(frozen=True)
class StaffUser:
    """A staff member who can log in to the console."""

    username: str
    role: str
    languages: tuple[str, ...] = ()  # languages spoken, for the default view of the queue
    disabled: bool = False

    @property
    def supervisor(self) -> bool:
        """Say whether the user is a supervisor (who sees and may act on every case)."""
        return self.role == "supervisor"


def valid_username(raw: str) -> str | None:
    """Return the normalised username when it has the allowed form and length, else None."""
    if len(raw) > MAX_USERNAME_INPUT:
        return None
    name = raw.strip().lower()
    return name if _USERNAME.match(name) else None


def username_id(username: str) -> str:
    """Return the hash that stands for a username in key names."""
    return hashlib.sha256(b"lantern-staff:" + username.encode()).hexdigest()[:32]


def hash_password(password: str) -> str:
    """Hash a password with scrypt at the current cost."""
    with _HASHING:
        return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    """A hash checked against when a username does not exist, so timing does not reveal accounts."""
    return hash_password("not-a-real-password")


class Accounts:
    """Create, list, authenticate, disable and reset staff accounts."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def _key(self, username: str) -> str:
        """Return an account's key, moving it from its pre-hashing name if needed."""
        key = self.keys.staff_user(username_id(username))
        legacy = self.keys.legacy_staff_user(username)
        if self.redis.exists(legacy) and not self.redis.exists(key):
            self.redis.renamenx(legacy, key)
        return key

    def create(self, username: str, password: str, role: str, languages: tuple[str, ...] = ()) -> StaffUser:
        """Create an account; refuse bad usernames, weak passwords, unknown roles and duplicates."""
        name = valid_username(username)
        if name is None or name != username:
            raise AccountError("Username: 2-32 lower-case letters, digits, '.', '_' or '-'.")
        if role not in ROLES:
            raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
        check_password(password)
        spoken = _languages(languages)
        key = self._key(name)
        if not self.redis.hsetnx(key, "password", hash_password(password)):
            raise AccountError(f"User {name} already exists.")
        self.redis.hset(key, mapping={"role": role, "created_at": str(time.time()), "disabled": "0",
                                      "languages": ",".join(spoken)})
        self.redis.sadd(self.keys.staff_users, name)
        return StaffUser(name, role, spoken)

    def set_languages(self, username: str, languages: tuple[str, ...]) -> StaffUser:
        """Set the languages a staff member speaks (codes such as sw, ar)."""
        self.redis.hset(self._existing(username), "languages", ",".join(_languages(languages)))
        user = self.get(username)
        assert user is not None
        return user

    def get(self, username: str) -> StaffUser | None:
        """Return an account by username."""
        name = valid_username(username)
        if name is None:
            return None
        role, disabled, languages = self.redis.hmget(self._key(name), ["role", "disabled", "languages"])
        if not role:
            return None
        return StaffUser(name, str(role), tuple(filter(None, str(languages or "").split(","))), disabled == "1")

    def usernames(self) -> list[str]:
        """Return every username, sorted."""
        return sorted(self.redis.smembers(self.keys.staff_users))

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """Return the active user when the password matches (the same work whether or not it exists)."""
        name = valid_username(username)
        key = self._key(name) if name else None
        stored = self.redis.hget(key, "password") if key else None
        with _HASHING:
            valid = check_password_hash(stored or _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        user = self.get(name) if stored and valid and name else None
        if user is None or user.disabled:
            return None
        if key and not str(stored).startswith(PASSWORD_METHOD + "$"):
            self.redis.hset(key, "password", hash_password(password))  # upgrade an older, cheaper hash
        return user

    def _existing(self, username: str) -> str:
        """Return the key of an existing account or refuse."""
        if self.get(username) is None:
            raise AccountError(f"No account {username}.")
        return self._key(username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable an account (ending its sessions at once) or enable it again."""
        self.redis.hset(self._existing(username), "disabled", "1" if disabled else "0")
        if disabled:
            self.revoke_sessions(username)

    def reset_password(self, username: str, password: str) -> None:
        """Give an account a new password, ending its sessions."""
        key = self._existing(username)
        check_password(password)
        self.redis.hset(key, "password", hash_password(password))
        self.revoke_sessions(username)

    def revoke_sessions(self, username: str) -> int:
        """End every console session of a staff member; return how many were ended."""
        index = self.keys.staff_user_sessions(username_id(username))
        hashes = list(self.redis.smembers(index))
        ended = int(self.redis.delete(*[self.keys.staff_session(h) for h in hashes])) if hashes else 0
        self.redis.delete(index)
        return ended

    def unlock(self, username: str) -> int:
        """Forget an account's failed logins (the per-account delay); return how many keys went."""
        self._existing(username)
        return int(self.redis.delete(self.keys.login_attempts(f"user:{username_id(username)}")))


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(f"Password must have {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters.")


def ask_password(username: str) -> str:
    """Read a new password from STAFF_PASSWORD or the terminal."""
    return os.environ.get("STAFF_PASSWORD") or getpass.getpass(f"Password for {username}: ")


def main(argv: list[str] | None = None) -> int:
    """Manage staff accounts: lantern staff-user create|list|languages|disable|enable|unlock|reset-password."""
    from bot.core.settings import Settings
    from bot.core.store import connect

    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account (password asked, or STAFF_PASSWORD)")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="staff")
    create.add_argument("--languages", default="", help="languages spoken, e.g. sw,en")
    languages = sub.add_parser("languages", help="set the languages an account speaks (e.g. sw,ar)")
    languages.add_argument("username")
    languages.add_argument("codes", help="comma-separated language codes; empty for none")
    sub.add_parser("list", help="list accounts")
    for name, about in (("disable", "disable an account and end its sessions"), ("enable", "enable it again"),
                        ("unlock", "forget its failed logins"),
                        ("reset-password", "set a new password (asked, or STAFF_PASSWORD); ends its sessions")):
        sub.add_parser(name, help=about).add_argument("username")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    accounts = Accounts(connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix))
    try:
        if args.command == "list":
            for name in accounts.usernames():
                user = accounts.get(name)
                state = "disabled" if user and user.disabled else "active"
                print(f"{name}\t{user.role if user else '?'}\t{','.join(user.languages) if user else ''}\t{state}")
        elif args.command == "languages":
            user = accounts.set_languages(args.username, tuple(args.codes.split(",")))
            print(f"{user.username} speaks: {', '.join(user.languages) or '(none)'}.")
        elif args.command == "create":
            user = accounts.create(args.username, ask_password(args.username), args.role,
                                   tuple(args.languages.split(",")))
            print(f"Created {user.role} account {user.username}.")
        elif args.command in ("disable", "enable"):
            accounts.set_disabled(args.username, args.command == "disable")
            print(f"{args.username}: {args.command}d" + (", sessions ended." if args.command == "disable" else "."))
        elif args.command == "unlock":
            accounts.unlock(args.username)
            print(f"{args.username}: failed logins forgotten.")
        else:
            accounts.reset_password(args.username, ask_password(args.username))
            print(f"{args.username}: password changed, sessions ended.")
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
