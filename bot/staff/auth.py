"""Console login: sessions with idle and absolute timeouts, CSRF tokens, login throttling.

Throttling slows attackers without letting anyone lock a staff member out: an address that
keeps failing must wait longer and longer (per-address backoff), and each attempt on an account
that keeps failing is answered more slowly (per-account delay), but the right password from an
address in good standing always works.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for
from redis import Redis

from bot.core.identity import opaque_key
from bot.core.services import Services, get_services
from bot.core.store import Keys
from bot.staff.accounts import Accounts, StaffUser, username_id

F = TypeVar("F", bound=Callable[..., Any])
ADDRESS_FREE_FAILURES = 10  # failed logins per client address before it must back off (offices share one)
ACCOUNT_FREE_FAILURES = 3  # failed logins on one account before each attempt on it is slowed
FAILURE_WINDOW_SECONDS = 15 * 60  # failures are forgotten after this long without another
MAX_ADDRESS_BACKOFF_SECONDS = 15 * 60
MAX_ACCOUNT_DELAY_SECONDS = 2.0
pause: Callable[[float], None] = time.sleep  # the per-account delay (tests record it instead)


def accounts(svc: Services) -> Accounts:
    """Return the account store."""
    return Accounts(svc.db, svc.redis, svc.keys)


class LoginThrottle:
    """Count failed logins per client address and per account (both hashed in key names)."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def _address_key(self, address: str) -> str:
        """Key of an address's failures."""
        return self.keys.login_attempts(f"ip:{address}")

    def _account_key(self, username: str) -> str:
        """Key of an account's failures."""
        return self.keys.login_attempts(f"user:{username_id(username)}")

    def address_wait(self, address: str, now: float) -> float:
        """Seconds this address must still wait before its next attempt is even checked."""
        raw = self.redis.hmget(self._address_key(address), "failures", "last")
        failures, last = int(raw[0] or 0), float(raw[1] or 0)
        if failures < ADDRESS_FREE_FAILURES:
            return 0.0
        backoff = min(2.0 ** (failures - ADDRESS_FREE_FAILURES), MAX_ADDRESS_BACKOFF_SECONDS)
        return max(0.0, last + backoff - now)

    def account_delay(self, username: str) -> float:
        """Seconds to hold an attempt on this account (grows with its recent failures, capped)."""
        failures = int(self.redis.hget(self._account_key(username), "failures") or 0)
        if failures < ACCOUNT_FREE_FAILURES:
            return 0.0
        return min(0.25 * 2.0 ** (failures - ACCOUNT_FREE_FAILURES), MAX_ACCOUNT_DELAY_SECONDS)

    def record_failure(self, address: str, username: str | None, now: float) -> None:
        """Count a failed login for the address and, when the username is well formed, the account."""
        pipe = self.redis.pipeline()
        for key in [self._address_key(address)] + ([self._account_key(username)] if username else []):
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", repr(now))
            pipe.expire(key, FAILURE_WINDOW_SECONDS)
        pipe.execute()

    def clear(self, address: str, username: str) -> None:
        """Forget the failures of an address and an account after a successful login."""
        self.redis.delete(self._address_key(address), self._account_key(username))


def client_address(svc: Services) -> str:
    """Return the keyed hash standing for the client's address."""
    return opaque_key(svc.settings.sender_hash_key, "staff-login:" + (request.remote_addr or "unknown"))


def csrf_token() -> str:
    """Return this session's CSRF token, creating it when missing."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse a state-changing request without this session's CSRF token (compared as bytes)."""
    sent = (request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")).encode()
    expected = str(session.get("csrf", "")).encode()
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "missing or wrong CSRF token")


def start_session(user: StaffUser) -> None:
    """Log a user in with a fresh session (new id, new CSRF token, timestamps)."""
    session.clear()
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()
    now = time.time()
    session.update(user=user.username, login_at=now, seen_at=now, csrf=secrets.token_urlsafe(32))
    session.permanent = True


def current_user(svc: Services, touch: bool = True) -> StaffUser | None:
    """Return the logged-in user, enforcing idle and absolute timeouts and disabled accounts.

    Only what staff do (touch=True) counts as activity; live updates do not."""
    username = session.get("user")
    if not username:
        return None
    now = time.time()
    idle = now - float(session.get("seen_at", 0)) > svc.settings.staff_session_idle_minutes * 60
    expired = now - float(session.get("login_at", 0)) > svc.settings.staff_session_max_hours * 3600
    user = accounts(svc).get(str(username))
    if idle or expired or user is None or user.disabled:
        session.clear()
        return None
    if touch:
        session["seen_at"] = now
    return user


def login_required(role: str | None = None, live: bool = False) -> Callable[[F], F]:
    """Require a logged-in user (and a role); check CSRF on state-changing requests.

    live=True marks the requests the page makes by itself (event stream, refreshed parts):
    they do not keep an idle session alive."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            svc = get_services()
            user = current_user(svc, touch=not live)
            if user is None:
                if request.method == "GET" and request.endpoint != "staff.events":
                    return redirect(url_for("staff.login"))
                abort(401)
            if role and user.role != role:
                abort(403)
            if request.method not in ("GET", "HEAD"):
                check_csrf()
            g.staff_user = user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def api_token_valid(svc: Services) -> bool:
    """Check the Bearer token of a machine request against STAFF_API_TOKEN."""
    expected = svc.settings.staff_api_token
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").encode(), expected.encode())
