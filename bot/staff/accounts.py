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
# Checked against when a username does not exist, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """An account cannot be created as asked."""


@dataclass(frozen=True)
class StaffUser:
    """A staff member who can log in to the console."""

    username: str
    role: str


class Accounts:
    """Create, list and authenticate staff accounts."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def create(self, username: str, password: str, role: str) -> StaffUser:
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
        self.redis.hset(self.keys.staff_user(username), mapping={"role": role, "created_at": str(time.time())})
        self.redis.sadd(self.keys.staff_users, username)
        return StaffUser(username, role)

    def get(self, username: str) -> StaffUser | None:
        """Return an account by username."""
        role = self.redis.hget(self.keys.staff_user(username), "role")
        return StaffUser(username, str(role)) if role else None

    def usernames(self) -> list[str]:
        """Return every username, sorted."""
        return sorted(self.redis.smembers(self.keys.staff_users))

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """Return the user when the password matches (constant work either way)."""
        stored = self.redis.hget(self.keys.staff_user(username), "password") if _USERNAME.match(username) else None
        valid = check_password_hash(stored or _DUMMY_HASH, password)
        return self.get(username) if stored and valid else None


def main(argv: list[str] | None = None) -> int:
    """Create a staff account: lantern staff-user create NAME --role staff."""
    from bot.core.settings import Settings
    from bot.core.store import connect

    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account (password asked, or STAFF_PASSWORD)")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="staff")
    sub.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    accounts = Accounts(connect(settings.redis_url), Keys(settings.redis_key_prefix, settings.rasa_key_prefix))
    if args.command == "list":
        for name in accounts.usernames():
            user = accounts.get(name)
            print(f"{name}\t{user.role if user else '?'}")
        return 0
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass(f"Password for {args.username}: ")
    try:
        user = accounts.create(args.username, password, args.role)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Created {user.role} account {user.username}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
