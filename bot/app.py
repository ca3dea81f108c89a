"""The Flask application factory for Lantern's gateway, NLG callback and staff console.

One factory serves every process shape: LANTERN_ROLE picks what a process serves (`all` by default
and in the tests; `make run` starts one process per role so live updates never take threads from
Twilio's webhook or Rasa's NLG callback)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

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
BODY_LIMITS = {"nlg.nlg": 1024 * 1024, "staff.login": 4 * 1024}
DEFAULT_BODY_LIMIT = 64 * 1024


def body_limit(endpoint: str | None, settings: Settings) -> int:
    """Return the largest body a route accepts."""
    if endpoint == "gateway.twilio_webhook":
        return settings.max_body_bytes
    return BODY_LIMITS.get(endpoint or "", DEFAULT_BODY_LIMIT)


def role_blueprints(role: str) -> list[Blueprint]:
    """Return the blueprints a process of a role serves (every role answers /healthz)."""
    served = {
        "gateway": [gateway.bp],
        "nlg": [gateway.nlg_bp],
        "console": [staff_views.bp, staff_reports.bp],
    }
    chosen = [bp for name, bps in served.items() if role in ("all", name) for bp in bps]
    return [gateway.health_bp, *chosen]


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
    if settings.proxy_hops:  # the real client's address and scheme, as the trusted proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.proxy_hops)
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

    for blueprint in role_blueprints(settings.lantern_role):
        app.register_blueprint(blueprint)
    staff_i18n.init_app(app)
    return app
