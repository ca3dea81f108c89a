"""Console login: sessions with idle and absolute timeouts, CSRF tokens, login throttling."""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for

from bot.core.identity import opaque_key
from bot.core.rate_limit import Limit, RateLimiter
from bot.core.services import Services, get_services
from bot.staff.accounts import Accounts, StaffUser

F = TypeVar("F", bound=Callable[..., Any])
MAX_FAILURES = 5  # per username
MAX_ADDRESS_FAILURES = 30  # per client address (an office may share one)
LOCKOUT_SECONDS = 15 * 60


def accounts(svc: Services) -> Accounts:
    """Return the account store."""
    return Accounts(svc.redis, svc.keys)


def csrf_token() -> str:
    """Return this session's CSRF token, creating it when missing."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse a state-changing request without this session's CSRF token."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "missing or wrong CSRF token")


def _failure_limiters(svc: Services, username: str) -> list[RateLimiter]:
    """Counters of recent failed logins for this username and for this client address."""
    address = opaque_key(svc.settings.sender_hash_key, request.remote_addr or "unknown")
    return [
        RateLimiter(svc.redis, lambda w: svc.keys.login_attempts(f"user:{w}:{username}"),
                    [Limit(LOCKOUT_SECONDS, MAX_FAILURES)]),
        RateLimiter(svc.redis, lambda w: svc.keys.login_attempts(f"ip:{w}:{address}"),
                    [Limit(LOCKOUT_SECONDS, MAX_ADDRESS_FAILURES)]),
    ]


def login_locked(svc: Services, username: str) -> bool:
    """Say whether too many failed logins were made for this username or address."""
    return any(limiter.exceeded(time.time()) for limiter in _failure_limiters(svc, username))


def record_failure(svc: Services, username: str) -> None:
    """Count a failed login (it counts for the rest of the lockout window)."""
    for limiter in _failure_limiters(svc, username):
        limiter.hit(time.time())


def start_session(svc: Services, user: StaffUser) -> None:
    """Log a user in with a fresh session (new CSRF token, timestamps)."""
    for limiter in _failure_limiters(svc, user.username):
        limiter.reset(time.time())
    session.clear()
    now = time.time()
    session.update(user=user.username, login_at=now, seen_at=now, csrf=secrets.token_urlsafe(32))
    session.permanent = True


def current_user(svc: Services) -> StaffUser | None:
    """Return the logged-in user, enforcing idle and absolute timeouts."""
    username = session.get("user")
    if not username:
        return None
    now = time.time()
    idle = now - float(session.get("seen_at", 0)) > svc.settings.staff_session_idle_minutes * 60
    expired = now - float(session.get("login_at", 0)) > svc.settings.staff_session_max_hours * 3600
    user = accounts(svc).get(str(username))
    if idle or expired or user is None:
        session.clear()
        return None
    session["seen_at"] = now
    return user


def login_required(role: str | None = None) -> Callable[[F], F]:
    """Require a logged-in user (and a role); check CSRF on state-changing requests."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            svc = get_services()
            user = current_user(svc)
            if user is None:
                if request.method == "GET" and not request.path.startswith("/staff/events"):
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
