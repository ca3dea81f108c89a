"""The Flask application factory for Lantern's gateway and staff console."""

from __future__ import annotations

from flask import Flask

from bot import gateway
from bot.core.logs import configure_logging
from bot.core.services import Services, build_services, init_app
from bot.core.settings import Settings
from bot.staff import i18n as staff_i18n
from bot.staff import views as staff_views

NLG_MAX_BYTES = 32 * 1024 * 1024


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Create the gateway app from settings (the environment when none are given).

    Tests may pass ready-made services (with fakes for Rasa or Twilio)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Rasa's NLG callback posts the whole tracker, which grows with a conversation;
        # the Twilio webhook enforces MAX_BODY_BYTES itself.
        MAX_CONTENT_LENGTH=NLG_MAX_BYTES,
        TESTING=settings.testing,
        SESSION_COOKIE_NAME="lantern_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://") and not settings.testing,
        PERMANENT_SESSION_LIFETIME=settings.staff_session_max_hours * 3600,
    )
    init_app(app, services or build_services(settings))
    app.register_blueprint(gateway.bp)
    app.register_blueprint(staff_views.bp)
    staff_i18n.init_app(app)
    return app
