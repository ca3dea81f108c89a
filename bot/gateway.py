"""HTTP entry points: Twilio's webhook, Rasa's NLG callback and the health check (one blueprint each,
so each process registers only what its role serves: bot/app.py)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from bot.conversation.pipeline import handle_inbound
from bot.core.deadline import Deadline
from bot.core.identity import opaque_key
from bot.core.metrics import address_allowed
from bot.core.rate_limit import Limit, RateLimiter
from bot.core.services import Services, get_services
from bot.resources.render import render_listing
from bot.staff.auth import api_token_valid
from webhooks.base import MalformedRequest
from webhooks.twilio import adapter_for_form, signature_is_valid

log = logging.getLogger(__name__)
bp = Blueprint("gateway", __name__)
nlg_bp = Blueprint("nlg", __name__)
health_bp = Blueprint("health", __name__)
TWIML = "application/xml"
WEBHOOK_OUTCOMES = {200: "answered", 400: "malformed", 403: "bad_signature", 413: "too_large", 429: "flooded"}


def signed_url(svc: Services) -> str:
    """Return the URL Twilio signed: PUBLIC_URL + path + query string."""
    query = request.query_string.decode()
    return svc.settings.public_url.rstrip("/") + request.path + (f"?{query}" if query else "")


def ip_flooding(svc: Services) -> bool:
    """Count a failed request against its client address; True above the per-minute limit.

    Only requests that fail the signature check are counted, so a busy Twilio behind one address
    is never throttled and a forger is. Behind a proxy the address is the real client's (PROXY_HOPS)."""
    address = request.remote_addr or "unknown"
    address_key = opaque_key(svc.settings.sender_hash_key, address)
    limiter = RateLimiter(svc.redis, lambda window: svc.keys.ip_rate(address_key, window),
                          [Limit(60, svc.settings.ip_rate_limit_per_minute)])
    try:
        return limiter.hit(time.time())
    except RedisError:
        return False


def fallback_language(svc: Services, text: str) -> str:
    """Guess the language for an emergency reply when state is unavailable."""
    detection = svc.detector.detect(text) if text else None
    if detection and detection.supported and detection.language:
        return detection.language
    return svc.registry.default


@bp.post("/webhooks/twilio")
def twilio_webhook() -> Response:
    """Receive an SMS or WhatsApp message from Twilio and answer with TwiML, within WEBHOOK_DEADLINE_SECONDS."""
    svc = get_services()
    deadline = Deadline.after(svc.settings.webhook_deadline_seconds)
    if request.content_length and request.content_length > svc.settings.max_body_bytes:
        abort(413)
    form_encoded = request.mimetype == "application/x-www-form-urlencoded"
    form = request.form
    if not form_encoded or not signature_is_valid(
        svc.settings.twilio_auth_token, signed_url(svc), form, request.headers.get("X-Twilio-Signature", "")
    ):
        if ip_flooding(svc):
            abort(429)
        if not form_encoded:
            abort(400, "expected a form-encoded Twilio webhook")
        log.warning("rejected request with a bad signature")
        abort(403)
    try:
        adapter = adapter_for_form(form)
        message = adapter.parse(form)
    except MalformedRequest as exc:
        log.warning("malformed webhook", extra={"error": str(exc)})
        abort(400, str(exc))
    started = time.perf_counter()
    try:
        replies = handle_inbound(svc, message, deadline)
    except Exception as exc:  # noqa: BLE001 - Twilio must never see a 500
        log.error("pipeline failed; sent hotline fallback", extra={"error": type(exc).__name__})
        g.webhook_outcome = "fallback"
        svc.metrics.fallback_replies.labels("pipeline_error").inc()
        replies = [svc.render("hotline_fallback", fallback_language(svc, message.reply_text))]
    log.info("answered", extra={"channel": adapter.name, "count": len(replies), "late": deadline.passed,
                                "latency_ms": round((time.perf_counter() - started) * 1000, 1)})
    return Response(adapter.render_reply(replies), mimetype=TWIML)


@bp.before_app_request
def start_webhook_timer() -> None:
    """Note when a webhook request arrived (for the latency histogram)."""
    if request.endpoint == "gateway.twilio_webhook":
        g.webhook_started = time.perf_counter()


@bp.after_app_request
def count_webhook(response: Response) -> Response:
    """Count every webhook request by outcome and time the answered ones (refusals included)."""
    if request.endpoint == "gateway.twilio_webhook":
        metrics = get_services().metrics
        outcome = g.get("webhook_outcome") or WEBHOOK_OUTCOMES.get(response.status_code, "error")
        metrics.webhook_requests.labels(outcome).inc()
        if "webhook_started" in g:
            metrics.webhook_seconds.observe(time.perf_counter() - g.webhook_started)
    return response


@health_bp.get("/metrics")
def metrics() -> Response:
    """Serve Prometheus metrics to operators: with METRICS_TOKEN as Bearer token, or without one
    from an allowed network and not through a forwarding proxy."""
    svc = get_services()
    if not metrics_allowed(svc):
        abort(403 if not svc.settings.metrics_token else 401)
    return Response(generate_latest(svc.metrics.registry), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def metrics_allowed(svc: Services) -> bool:
    """Check the scraper: the token when one is set, else its address (never a proxied request)."""
    token = svc.settings.metrics_token
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        return hmac.compare_digest(hashlib.sha256(sent).digest(), hashlib.sha256(token.encode()).digest())
    proxied = any(name in request.headers for name in ("X-Forwarded-For", "Forwarded", "X-Real-Ip"))
    return not proxied and address_allowed(request.remote_addr or "", svc.settings.metrics_allowed_networks)


@nlg_bp.post("/nlg")
def nlg() -> Response:
    """Render a response Rasa chose, in the person's language (Rasa's NLG contract)."""
    svc = get_services()
    token = request.args.get("token", "")
    if not hmac.compare_digest(hashlib.sha256(token.encode()).digest(),
                               hashlib.sha256(svc.settings.rasa_token.encode()).digest()):
        abort(403)
    body: dict[str, Any] = request.get_json(silent=True) or {}
    key = str(body.get("response", ""))
    language = tracker_language(body.get("tracker") or {}, svc.registry.default)
    arguments = body.get("arguments") or {}
    if key == "utter_resources" and isinstance(arguments, dict):
        text = render_listing(svc, language, arguments)
    else:
        if not svc.catalogs.has(key):
            log.error("unknown response", extra={"intent": key})
            key = "utter_not_understood"
        text = svc.render(key, language)
    custom = {"response": key, "language": language, "confidence": intent_confidence(body.get("tracker") or {})}
    return jsonify({"text": text, "custom": {"lantern": custom}})


def latest_user_event(tracker: dict[str, Any]) -> dict[str, Any]:
    """Return the latest user event Rasa sent with a callback (empty when none)."""
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user":
            return dict(event)
    return {}


def tracker_language(tracker: dict[str, Any], default: str) -> str:
    """Find the language the gateway sent with the latest user message."""
    language = (latest_user_event(tracker).get("metadata") or {}).get("language")
    return str(language) if language else default


def intent_confidence(tracker: dict[str, Any]) -> float | None:
    """Return the NLU's confidence in the latest message's intent, if Rasa sent it."""
    confidence = ((latest_user_event(tracker).get("parse_data") or {}).get("intent") or {}).get("confidence")
    return float(confidence) if isinstance(confidence, (int, float)) else None


HEALTH_CACHE_SECONDS = 5.0


@dataclass
class HealthCache:
    """The last health check and when it was made (one per app: checks cost 1+N requests)."""

    states: dict[str, str] = field(default_factory=dict)
    checked_at: float = -HEALTH_CACHE_SECONDS
    lock: threading.Lock = field(default_factory=threading.Lock)

    def states_now(self, svc: Services) -> dict[str, str]:
        """Return the component states, checked at most once every few seconds."""
        with self.lock:
            if time.monotonic() - self.checked_at >= HEALTH_CACHE_SECONDS:
                try:
                    redis_state = "up" if svc.redis.ping() else "down"
                except RedisError:
                    redis_state = "down"
                self.states = {"redis": redis_state, **svc.rasa.component_states()}
                self.checked_at = time.monotonic()
            return dict(self.states)


@health_bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether Redis, Rasa and the action server are up: the status to anyone, each
    component's state only with STAFF_API_TOKEN as Bearer token."""
    svc = get_services()
    cache: HealthCache = current_app.extensions.setdefault("lantern_health", HealthCache())
    states = cache.states_now(svc)
    healthy = all(state == "up" for state in states.values())
    body: dict[str, str] = {"status": "ok" if healthy else "degraded"}
    if api_token_valid(svc):
        body |= states
    return jsonify(body), 200 if healthy else 503

