"""Staff accounts in the database, with scrypt password hashes; managed only from the command line."""

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
from redis.exceptions import RedisError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core.database import Database, staff_accounts
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
    """Create, list, authenticate, disable and reset staff accounts (sessions stay in Redis)."""

    def __init__(self, db: Database, redis: Redis, keys: Keys) -> None:
        self.db = db
        self.redis = redis
        self.keys = keys

    def _row(self, username: str) -> dict[str, object] | None:
        """Return an account's stored row (moving it from Redis, where accounts lived before)."""
        with self.db.connect() as connection:
            row = connection.execute(select(staff_accounts).where(staff_accounts.c.username == username)).first()
        if row is None:
            return self._move_from_redis(username)
        return dict(row._mapping)

    def _move_from_redis(self, username: str) -> dict[str, object] | None:
        """Move an account kept in Redis by an earlier release into the database."""
        old_keys = [self.keys.staff_user(username_id(username)), self.keys.legacy_staff_user(username)]
        try:
            stored = next((found for key in old_keys if (found := self.redis.hgetall(key))), None)
        except RedisError:
            return None
        if not stored or not stored.get("password") or stored.get("role") not in ROLES:
            return None
        row: dict[str, object] = dict(
            username=username, password_hash=stored["password"], role=stored["role"],
            languages=stored.get("languages", ""), disabled=stored.get("disabled") == "1",
            created_at=float(stored.get("created_at") or time.time()))
        try:
            with self.db.begin() as connection:
                connection.execute(insert(staff_accounts).values(**row))
        except IntegrityError:
            pass  # another process moved it first
        self.redis.delete(*old_keys)
        return row

    def _set(self, username: str, **values: object) -> None:
        """Change columns of an existing account."""
        with self.db.begin() as connection:
            connection.execute(update(staff_accounts).where(staff_accounts.c.username == username).values(**values))

    def create(self, username: str, password: str, role: str, languages: tuple[str, ...] = ()) -> StaffUser:
        """Create an account; refuse bad usernames, weak passwords, unknown roles and duplicates."""
        name = valid_username(username)
        if name is None or name != username:
            raise AccountError("Username: 2-32 lower-case letters, digits, '.', '_' or '-'.")
        if role not in ROLES:
            raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
        check_password(password)
        spoken = _languages(languages)
        if self._row(name) is not None:
            raise AccountError(f"User {name} already exists.")
        try:
            with self.db.begin() as connection:
                connection.execute(insert(staff_accounts).values(
                    username=name, password_hash=hash_password(password), role=role, languages=",".join(spoken),
                    disabled=False, created_at=time.time()))
        except IntegrityError as exc:
            raise AccountError(f"User {name} already exists.") from exc
        return StaffUser(name, role, spoken)

    def set_languages(self, username: str, languages: tuple[str, ...]) -> StaffUser:
        """Set the languages a staff member speaks (codes such as sw, ar)."""
        self._set(self._existing(username), languages=",".join(_languages(languages)))
        user = self.get(username)
        assert user is not None
        return user

    def get(self, username: str) -> StaffUser | None:
        """Return an account by username."""
        name = valid_username(username)
        row = self._row(name) if name else None
        if name is None or row is None:
            return None
        languages = tuple(filter(None, str(row["languages"] or "").split(",")))
        return StaffUser(name, str(row["role"]), languages, bool(row["disabled"]))

    def usernames(self) -> list[str]:
        """Return every username, sorted."""
        with self.db.connect() as connection:
            return list(connection.execute(select(staff_accounts.c.username).order_by(staff_accounts.c.username))
                        .scalars())

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """Return the active user when the password matches (the same work whether or not it exists)."""
        name = valid_username(username)
        row = self._row(name) if name else None
        stored = str(row["password_hash"]) if row else None
        with _HASHING:
            valid = check_password_hash(stored or _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        user = self.get(name) if stored and valid and name else None
        if user is None or user.disabled:
            return None
        if not str(stored).startswith(PASSWORD_METHOD + "$"):
            self._set(user.username, password_hash=hash_password(password))  # upgrade an older, cheaper hash
        return user

    def _existing(self, username: str) -> str:
        """Return the name of an existing account or refuse."""
        user = self.get(username)
        if user is None:
            raise AccountError(f"No account {username}.")
        return user.username

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable an account (ending its sessions at once) or enable it again."""
        self._set(self._existing(username), disabled=disabled)
        if disabled:
            self.revoke_sessions(username)

    def reset_password(self, username: str, password: str) -> None:
        """Give an account a new password, ending its sessions."""
        name = self._existing(username)
        check_password(password)
        self._set(name, password_hash=hash_password(password))
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
    db = Database(settings.database_url)
    db.upgrade()
    accounts = Accounts(db, connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix))
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
