"""Console pages and actions: queue, case, claim, transfer, reply, notes, close, live events."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from bot.core.services import Services, get_services
from bot.handoff.cases import Case
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import close_case, notify_person, staff_reply
from bot.resources.lookup import words_for
from bot.resources.places import match_place
from bot.staff import auth
from bot.staff.accounts import valid_username
from bot.staff.audit import audit, recent_audit
from bot.staff.auth import (
    LoginThrottle,
    accounts,
    api_token_valid,
    client_address,
    csrf_token,
    current_user,
    login_required,
    start_session,
)
from bot.staff.i18n import CONSOLE_LANGUAGES
from bot.staff.i18n import gettext as _
from bot.staff.sessions import session_alive

log = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
OUTCOMES = ("referred", "resolved", "no_response", "not_a_case", "duplicate")
MAX_REPLY = 1000
LIVE_ENDPOINTS = {"staff.events", "staff.queue_rows", "staff.transcript_partial"}


@bp.app_context_processor
def inject() -> dict[str, object]:
    """Give templates the CSRF token, the user and the console languages."""
    return {"csrf_token": csrf_token, "staff_user": g.get("staff_user"), "console_languages": CONSOLE_LANGUAGES}


def load_case(svc: Services, case_id: str) -> Case:
    """Return a case or 404."""
    case = svc.cases.get(case_id) if case_id.isalnum() else None
    if case is None:
        abort(404)
    return case


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form; log in, throttling failures per address and per account.

    Nothing from the form is stored or logged before the username has the allowed form."""
    svc = get_services()
    if request.method == "GET":
        return render_template("staff/login.html")
    throttle, address, now = LoginThrottle(svc.redis, svc.keys), client_address(svc), time.time()
    wait = throttle.address_wait(address, now)
    if wait > 0:
        log.warning("login attempt while backing off")
        page = render_template("staff/login.html", error=_("Too many failed attempts. Try again later."))
        return page, 429, {"Retry-After": str(math.ceil(wait))}
    username = valid_username(request.form.get("username", ""))
    if username:
        auth.pause(throttle.account_delay(username))
    user = accounts(svc).authenticate(username, request.form.get("password", "")) if username else None
    if user is None:
        throttle.record_failure(address, username, now)
        audit(svc, username or "?", "login_failed")
        return render_template("staff/login.html", error=_("Wrong username or password.")), 401
    throttle.clear(address, user.username)
    start_session(user)
    audit(svc, user.username, "login")
    return redirect(url_for("staff.queue"))


@bp.post("/logout")
@login_required()
def logout() -> ResponseReturnValue:
    """End the session (its id is deleted from Redis: a copied cookie stops working too)."""
    audit(get_services(), g.staff_user.username, "logout")
    session.clear()
    return redirect(url_for("staff.login"))


@bp.post("/language")
@login_required()
def set_language() -> ResponseReturnValue:
    """Choose the console's language (kept in the session) and go back to the page it was chosen on."""
    if request.form.get("language") in CONSOLE_LANGUAGES:
        session["console_language"] = request.form["language"]
    return redirect(internal_page(request.form.get("next") or request.referrer))


def internal_page(target: str | None) -> str:
    """Return target when it is a console page of this app (as a path), else the queue."""
    fallback = url_for("staff.queue")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", request.host):
        return fallback
    if not parts.path.startswith("/staff/") or "\\" in target:
        return fallback
    try:
        endpoint, _ = current_app.url_map.bind(request.host).match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return fallback
    if not str(endpoint).startswith("staff.") or endpoint in LIVE_ENDPOINTS:
        return fallback
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/")
@login_required()
def queue() -> str:
    """Show active cases, most urgent and oldest first."""
    svc = get_services()
    return render_template("staff/queue.html", cases=svc.cases.queue(), recent=svc.cases.recent(20))


@bp.get("/queue")
@login_required(live=True)
def queue_rows() -> str:
    """Return the queue rows (refreshed live by the page)."""
    return render_template("staff/_queue_rows.html", cases=get_services().cases.queue())


@bp.get("/events")
@login_required(live=True)
def events() -> Response:
    """Stream case changes to the console (server-sent events; ids and status only).

    The stream ends when its session does (logout, account disabled, idle timeout)."""
    svc = get_services()
    alive = session_alive(svc, session)

    def stream() -> Iterator[str]:
        pubsub = svc.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(svc.keys.case_events)
        try:
            yield "retry: 2000\n\n"
            last_beat, ends = time.time(), time.time() + 300
            while time.time() < ends:
                message = pubsub.get_message(timeout=1.0)
                if message:
                    yield f"event: case\ndata: {message['data']}\n\n"
                elif time.time() - last_beat > 15:
                    if not alive():
                        return
                    last_beat = time.time()
                    yield ": keepalive\n\n"
        finally:
            pubsub.close()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.get("/cases/<case_id>")
@login_required()
def case_page(case_id: str) -> str:
    """Show a case: transcript, notes and actions."""
    svc = get_services()
    case = load_case(svc, case_id)
    audit(svc, g.staff_user.username, "view", case.id)
    allowed, why_not = svc.outbound.window_open(case.person)
    return render_template(
        "staff/case.html", case=case, transcript=svc.cases.transcript(case.id), notes=svc.cases.notes(case.id),
        colleagues=[u for u in accounts(svc).usernames() if u != g.staff_user.username], outcomes=OUTCOMES,
        can_send=allowed and bool(case.contact), why_not=why_not or _("This case has no contact number."),
        direction=svc.registry.get(case.language).direction, language_name=svc.registry.get(case.language).name,
    )


@bp.get("/cases/<case_id>/transcript")
@login_required(live=True)
def transcript_partial(case_id: str) -> str:
    """Return the transcript part of a case page (refreshed live)."""
    svc = get_services()
    case = load_case(svc, case_id)
    return render_template("staff/_transcript.html", case=case, transcript=svc.cases.transcript(case.id),
                           direction=svc.registry.get(case.language).direction)


@bp.post("/cases/<case_id>/claim")
@login_required()
def claim(case_id: str) -> ResponseReturnValue:
    """Claim an open case."""
    svc = get_services()
    case = load_case(svc, case_id)
    if case.status != "open":
        flash(_("This case is not open for claiming."))
    else:
        svc.cases.update(case, "claimed", status="claimed", claimed_by=g.staff_user.username)
        audit(svc, g.staff_user.username, "claim", case.id)
        notify_person(svc, case, "handoff_joined")
    return redirect(url_for("staff.case_page", case_id=case.id))


@bp.post("/cases/<case_id>/transfer")
@login_required()
def transfer(case_id: str) -> ResponseReturnValue:
    """Hand a claimed case to a colleague."""
    svc = get_services()
    case = load_case(svc, case_id)
    colleague = request.form.get("to", "")
    if not case.active or accounts(svc).get(colleague) is None:
        flash(_("Cannot transfer this case."))
    elif case.claimed_by != g.staff_user.username and g.staff_user.role != "supervisor":
        abort(403)
    else:
        svc.cases.update(case, "transferred", status="claimed", claimed_by=colleague)
        audit(svc, g.staff_user.username, "transfer", case.id, detail=f"to {colleague}")
    return redirect(url_for("staff.case_page", case_id=case.id))


def require_owner(case: Case) -> None:
    """Only the staff member who claimed a case (or a supervisor) may act on it."""
    if case.claimed_by != g.staff_user.username and g.staff_user.role != "supervisor":
        abort(403)


@bp.post("/cases/<case_id>/reply")
@login_required()
def reply(case_id: str) -> ResponseReturnValue:
    """Send a reply to the person through Twilio (only inside the safe-contact window)."""
    svc = get_services()
    case = load_case(svc, case_id)
    require_owner(case)
    text = request.form.get("text", "").strip()[:MAX_REPLY]
    if not text or not case.active:
        flash(_("Nothing was sent."))
        return redirect(url_for("staff.case_page", case_id=case.id))
    try:
        staff_reply(svc, case, g.staff_user.username, text)
        audit(svc, g.staff_user.username, "reply", case.id)
    except OutboundRefused as exc:
        audit(svc, g.staff_user.username, "reply_refused", case.id)
        flash(_("Not sent: ") + str(exc))
    return redirect(url_for("staff.case_page", case_id=case.id))


@bp.post("/cases/<case_id>/note")
@login_required()
def note(case_id: str) -> ResponseReturnValue:
    """Add an internal note (never sent to the person)."""
    svc = get_services()
    case = load_case(svc, case_id)
    text = request.form.get("text", "").strip()[:MAX_REPLY]
    if text:
        svc.cases.add_note(case, g.staff_user.username, text)
        audit(svc, g.staff_user.username, "note", case.id)
    return redirect(url_for("staff.case_page", case_id=case.id))


@bp.post("/cases/<case_id>/close")
@login_required()
def close(case_id: str) -> ResponseReturnValue:
    """Close a case with an outcome; the bot resumes for the person."""
    svc = get_services()
    case = load_case(svc, case_id)
    require_owner(case)
    outcome = request.form.get("outcome", "")
    if outcome not in OUTCOMES or not case.active:
        flash(_("Choose an outcome to close this case."))
        return redirect(url_for("staff.case_page", case_id=case.id))
    close_case(svc, case, g.staff_user.username, outcome)
    audit(svc, g.staff_user.username, "close", case.id, detail=outcome)
    return redirect(url_for("staff.queue"))


@bp.post("/cases/<case_id>/resources")
@login_required()
def find_resources(case_id: str) -> str:
    """Look up resources near a place for a case (to send one to the person)."""
    svc = get_services()
    case = load_case(svc, case_id)
    resource_desk = svc.desk
    resource_desk.refresh()
    query = request.form.get("query", "")
    place = match_place(resource_desk.regions, query)
    categories = words_for(svc.registry, query, "categories")
    results: list[dict[str, object]] = []
    if place is not None:
        results, _more = resource_desk.index.nearest(place.latitude, place.longitude,
                                                      categories[0] if categories else None, set(), 0, 10)
    audit(svc, g.staff_user.username, "resource_lookup", case.id)
    return render_template("staff/_resources.html", case=case, results=results, query=query, place=place)


@bp.get("/audit")
@login_required(role="supervisor")
def audit_log() -> str:
    """Show the audit log (supervisors only)."""
    return render_template("staff/audit.html", entries=recent_audit(get_services()))


@bp.get("/api/escalations")
def api_escalations() -> Response:
    """List cases for machines: Bearer STAFF_API_TOKEN; never a phone number."""
    svc = get_services()
    if not api_token_valid(svc) and current_user(svc) is None:
        abort(401)
    status = request.args.get("status", "active")
    cases = svc.cases.queue() if status == "active" else svc.cases.recent(200)
    return jsonify([case.public() for case in cases])


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Add security headers to console pages; never cache pages with personal data."""
    if request.path.startswith("/staff"):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.path.startswith("/staff/static"):
            response.headers["Cache-Control"] = "no-store"
        if get_services().settings.public_url.startswith("https://"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response

