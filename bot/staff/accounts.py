"""Staff accounts in Redis, with scrypt password hashes; created only from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import time
from dataclasses import dataclass

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core.store import Keys

ROLES = ("staff", "supervisor")
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Checked against when a username does not exist, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """An account cannot be created as asked."""


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

    @property
    def supervisor(self) -> bool:
        """Say whether the user is a supervisor (who sees and may act on every case)."""
        return self.role == "supervisor"


class Accounts:
    """Create, list and authenticate staff accounts."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def create(self, username: str, password: str, role: str, languages: tuple[str, ...] = ()) -> StaffUser:
        """Create an account; refuse weak passwords, unknown roles and duplicates."""
        if not _USERNAME.match(username):
            raise AccountError("Username: 2-32 lower-case letters, digits, '.', '_' or '-'.")
        if role not in ROLES:
            raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"Password must have at least {MIN_PASSWORD_LENGTH} characters.")
        hashed = generate_password_hash(password, method="scrypt")
        created = self.redis.hsetnx(self.keys.staff_user(username), "password", hashed)
        if not created:
            raise AccountError(f"User {username} already exists.")
        self.redis.hset(self.keys.staff_user(username), mapping={
            "role": role, "created_at": str(time.time()), "languages": ",".join(_languages(languages))})
        self.redis.sadd(self.keys.staff_users, username)
        return StaffUser(username, role, _languages(languages))

    def set_languages(self, username: str, languages: tuple[str, ...]) -> StaffUser:
        """Set the languages a staff member speaks (codes such as sw, ar)."""
        if self.get(username) is None:
            raise AccountError(f"No user {username}.")
        self.redis.hset(self.keys.staff_user(username), "languages", ",".join(_languages(languages)))
        user = self.get(username)
        assert user is not None
        return user

    def get(self, username: str) -> StaffUser | None:
        """Return an account by username."""
        role, languages = self.redis.hmget(self.keys.staff_user(username), ["role", "languages"])
        if not role:
            return None
        return StaffUser(username, str(role), tuple(filter(None, str(languages or "").split(","))))

    def usernames(self) -> list[str]:
        """Return every username, sorted."""
        return sorted(self.redis.smembers(self.keys.staff_users))

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """Return the user when the password matches (constant work either way)."""
        stored = self.redis.hget(self.keys.staff_user(username), "password") if _USERNAME.match(username) else None
        valid = check_password_hash(stored or _DUMMY_HASH, password)
        return self.get(username) if stored and valid else None


def main(argv: list[str] | None = None) -> int:
    """Create or list staff accounts, or set the languages one speaks: lantern staff-user --help."""
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
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    accounts = Accounts(connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix))
    if args.command == "list":
        for name in accounts.usernames():
            user = accounts.get(name)
            print(f"{name}\t{user.role if user else '?'}\t{','.join(user.languages) if user else ''}")
        return 0
    try:
        if args.command == "languages":
            user = accounts.set_languages(args.username, tuple(args.codes.split(",")))
            print(f"{user.username} speaks: {', '.join(user.languages) or '(none)'}.")
            return 0
        password = os.environ.get("STAFF_PASSWORD") or getpass.getpass(f"Password for {args.username}: ")
        user = accounts.create(args.username, password, args.role, tuple(args.languages.split(",")))
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Created {user.role} account {user.username}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
