"""The Flask application factory for Lantern's gateway and staff console."""

from __future__ import annotations

from flask import Flask, abort, request

from bot import gateway
from bot.core.logs import configure_logging
from bot.core.services import Services, build_services, init_app
from bot.core.settings import Settings
from bot.staff import i18n as staff_i18n
from bot.staff import reports as staff_reports
from bot.staff import views as staff_views
from bot.staff.sessions import RedisSessionInterface

# Largest request body per route (bytes), enforced by Werkzeug while reading, so it holds for
# chunked bodies too. Rasa's NLG callback carries one user event and a resource list
# (bot/dialogue/nlg.py); the Twilio webhook's limit is MAX_BODY_BYTES.
BODY_LIMITS = {"gateway.nlg": 1024 * 1024, "staff.login": 4 * 1024}
DEFAULT_BODY_LIMIT = 64 * 1024


def body_limit(endpoint: str | None, settings: Settings) -> int:
    """Return the largest body a route accepts."""
    if endpoint == "gateway.twilio_webhook":
        return settings.max_body_bytes
    return BODY_LIMITS.get(endpoint or "", DEFAULT_BODY_LIMIT)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Create the gateway app from settings (the environment when none are given).

    Tests may pass ready-made services (with fakes for Rasa or Twilio)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=DEFAULT_BODY_LIMIT,
        TESTING=settings.testing,
        SESSION_COOKIE_NAME="lantern_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://") and not settings.testing,
        PERMANENT_SESSION_LIFETIME=settings.staff_session_max_hours * 3600,
    )
    app.session_interface = RedisSessionInterface()
    init_app(app, services or build_services(settings))

    @app.before_request
    def limit_body() -> None:
        """Apply the route's body limit before anything else reads the body.

        Werkzeug refuses a Content-Length over the limit, but silently cuts a chunked body at
        it: read such a body here, one byte past the limit, and refuse it when it is longer."""
        limit = body_limit(request.endpoint, settings)
        if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
            request.max_content_length = limit
            return
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            abort(413)

    app.register_blueprint(gateway.bp)
    app.register_blueprint(staff_views.bp)
    app.register_blueprint(staff_reports.bp)
    staff_i18n.init_app(app)
    return app
