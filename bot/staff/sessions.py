"""Console sessions kept in Redis: the cookie holds only a random id, so logout, disabling an
account or a password reset end a session everywhere, copies of the cookie included."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from redis.exceptions import RedisError
from werkzeug.datastructures import CallbackDict

from bot.core.services import EXTENSION, Services
from bot.staff.accounts import username_id

MAX_SESSION_ID = 128


class StaffSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """A session whose data lives in Redis under a hash of its random id."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(session: StaffSession) -> None:
            session.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.rotate = False

    def regenerate(self) -> None:
        """Give the session a new id when it is saved (at login: no session fixation)."""
        self.rotate = self.modified = True


def session_hash(sid: str) -> str:
    """Return the hash under which a session id is stored (a Redis copy holds no usable cookie)."""
    return hashlib.sha256(sid.encode()).hexdigest()


def session_alive(svc: Services, session: SessionMixin) -> Callable[[], bool]:
    """Return a check that says whether this session still exists (for long live streams)."""
    sid = getattr(session, "sid", None)
    key = svc.keys.staff_session(session_hash(sid)) if sid else ""
    return lambda: bool(key) and bool(svc.redis.exists(key))


class RedisSessionInterface(SessionInterface):
    """Flask's session interface, storing console sessions in Redis with the idle timeout as TTL."""

    serializer = TaggedJSONSerializer()

    @staticmethod
    def _services(app: Flask) -> Services:
        """Return the app's services."""
        return app.extensions[EXTENSION]  # type: ignore[no-any-return]

    def open_session(self, app: Flask, request: Request) -> StaffSession:
        """Load the session named by the cookie, or start an empty one."""
        svc = self._services(app)
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if sid and len(sid) <= MAX_SESSION_ID:
            try:
                raw = svc.redis.get(svc.keys.staff_session(session_hash(sid)))
            except RedisError:
                raw = None
            if raw:
                return StaffSession(self.serializer.loads(raw), sid)
        return StaffSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store a logged-in session (only when it changed); delete a cleared one and its cookie."""
        assert isinstance(session, StaffSession)
        svc = self._services(app)
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session.get("user"):
            if session.sid:
                svc.redis.delete(svc.keys.staff_session(session_hash(session.sid)))
                response.delete_cookie(name, domain=domain, path=path)
            return
        if not session.modified:
            return
        if session.rotate or session.sid is None:
            if session.sid:
                svc.redis.delete(svc.keys.staff_session(session_hash(session.sid)))
            session.sid, session.rotate = secrets.token_urlsafe(32), False
        settings = svc.settings
        remaining = settings.staff_session_max_hours * 3600 - (time.time() - float(session.get("login_at", 0)))
        ttl = max(1, int(min(settings.staff_session_idle_minutes * 60, remaining)))
        digest, index = session_hash(session.sid), svc.keys.staff_user_sessions(username_id(str(session["user"])))
        pipe = svc.redis.pipeline()
        pipe.set(svc.keys.staff_session(digest), self.serializer.dumps(dict(session)), ex=ttl)
        pipe.sadd(index, digest)
        pipe.expire(index, settings.staff_session_max_hours * 3600)
        pipe.execute()
        response.set_cookie(name, session.sid, domain=domain, path=path, httponly=self.get_cookie_httponly(app),
                            secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))
