"""Console pages and actions: queue, case, claim, transfer, reply, notes, resources, close, live events."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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
from bot.handoff.cases import Case, CaseConflict
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import close_case, notify_person, staff_reply
from bot.resources.lookup import words_for
from bot.resources.places import match_place
from bot.resources.render import render_resource_list
from bot.staff import auth, labels, streams
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
from bot.staff.casefile import CaseFile, allowed_actions, case_file, reason_text
from bot.staff.i18n import CONSOLE_LANGUAGES
from bot.staff.i18n import gettext as _
from bot.staff.queue import QueueContext, QueueFilter, QueuePage, build_page
from bot.staff.sessions import session_alive

log = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
OUTCOMES = labels.OUTCOMES
MAX_REPLY = 1000
MAX_SUMMARY = 500
RECENT_CLOSED = 200
LIVE_ENDPOINTS = {"staff.events", "staff.queue_rows", "staff.case_live"}


@bp.app_context_processor
def inject() -> dict[str, object]:
    """Give templates the CSRF token, the user, the console languages and the label tables."""
    return {"csrf_token": csrf_token, "staff_user": g.get("staff_user"), "console_languages": CONSOLE_LANGUAGES,
            "labels": labels}


@bp.app_template_filter("minutes_since")
def minutes_since(epoch: float) -> int:
    """Return whole minutes from a time until now."""
    return max(0, int((time.time() - float(epoch)) // 60))


@bp.app_template_filter("clock")
def clock(epoch: float) -> str:
    """Format a time as UTC for the page (the browser shows it in local time)."""
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load_case(svc: Services, case_id: str) -> Case:
    """Return a case or 404."""
    case = svc.cases.get(case_id) if case_id.isalnum() else None
    if case is None:
        abort(404)
    return case


def wants_json() -> bool:
    """Say whether the page's script sent this request (it shows the answer in place)."""
    return request.headers.get("X-Requested-With") == "lantern-console"


# --- login -------------------------------------------------------------------------------
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


# --- queue -------------------------------------------------------------------------------
def queue_page(svc: Services, chosen: QueueFilter) -> QueuePage:
    """Build the queue the current user asked for."""
    cases = svc.cases.queue()
    if chosen.status == "closed" or chosen.query:
        cases += [c for c in svc.cases.recent(RECENT_CLOSED) if not c.active]
    ctx = QueueContext(g.staff_user, time.time(), svc.settings.handoff_unclaimed_seconds)
    return build_page(cases, chosen, ctx, svc.registry.codes)


def queue_context(svc: Services) -> dict[str, object]:
    """Return what the queue templates need."""
    chosen = QueueFilter.from_args(request.args)
    page = queue_page(svc, chosen)
    ctx = QueueContext(g.staff_user, time.time(), svc.settings.handoff_unclaimed_seconds)
    return {"page": page, "chosen": chosen, "ctx": ctx, "languages": svc.registry.languages,
            "language_options": [(lang.code, lang.name) for lang in svc.registry.languages],
            "outcome_names": labels.outcome_labels()}


@bp.get("/")
@login_required()
def queue() -> ResponseReturnValue:
    """Show the queue: the counsellor's default view, or the filters they chose."""
    svc = get_services()
    context = queue_context(svc)
    chosen = context["chosen"]
    page = context["page"]
    assert isinstance(chosen, QueueFilter) and isinstance(page, QueuePage)
    if chosen.query and page.total == 1 and page.rows[0][1].id == chosen.query:
        return redirect(url_for("staff.case_page", case_id=chosen.query))
    return render_template("staff/queue.html", **context)


@bp.get("/queue")
@login_required(live=True)
def queue_rows() -> str:
    """Return the queue's results part (the page refreshes it on every case event)."""
    return render_template("staff/_queue_results.html", **queue_context(get_services()))


@bp.get("/next")
@login_required()
def next_case() -> ResponseReturnValue:
    """Open the most urgent case of the user's default view."""
    svc = get_services()
    page = queue_page(svc, QueueFilter())
    if not page.rows:
        return redirect(url_for("staff.queue"))
    return redirect(url_for("staff.case_page", case_id=page.rows[0][1].id))


@bp.get("/events")
@login_required(live=True)
def events() -> Response:
    """Stream case changes to the console (server-sent events; ids, status and staff names only).

    The stream ends when its session does (logout, account disabled, idle timeout). Past the
    process's cap (CONSOLE_STREAMS_PER_PROCESS) the browser is told to come back later."""
    svc = get_services()
    alive = session_alive(svc, session)
    stream_slots = streams.slots()
    if not stream_slots.take():
        return streams.come_back_later()

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

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(stream_slots.give_back)
    return response


# --- case page ---------------------------------------------------------------------------
def render_case(svc: Services, case: Case, error: str = "", drafts: dict[str, str] | None = None,
                resources: dict[str, object] | None = None) -> str:
    """Render the case page (with an error and the user's typed text, when an action failed)."""
    return render_template("staff/case.html", file=case_file(svc, case, g.staff_user), case=case, error=error,
                           drafts=drafts or {}, resources=resources)


def refused(svc: Services, case: Case, status: int, message: str, **drafts: str) -> ResponseReturnValue:
    """Answer a refused action: in place for the page's script, else the page with the text kept."""
    if wants_json():
        return jsonify(ok=False, error=message), status
    return render_case(svc, case, error=message, drafts=drafts), status


def done(case: Case, to: str | None = None) -> ResponseReturnValue:
    """Answer a successful action."""
    if wants_json():
        return jsonify(ok=True, redirect=to)
    return redirect(to or url_for("staff.case_page", case_id=case.id))


def not_allowed(case: Case) -> str:
    """Explain why the user may not act on a case."""
    if not case.active:
        return _("This case is closed.")
    if case.claimed_by:
        return _("Only {owner}, who has this case, or a supervisor can do this.").format(owner=case.claimed_by)
    return _("Claim this case first.")


@bp.get("/cases/<case_id>")
@login_required()
def case_page(case_id: str) -> str:
    """Show a case: safety status, actions, conversation, reply tools, notes and timeline."""
    svc = get_services()
    case = load_case(svc, case_id)
    audit(svc, g.staff_user.username, "view", case.id)
    return render_case(svc, case)


@bp.get("/cases/<case_id>/live")
@login_required(live=True)
def case_live(case_id: str) -> Response:
    """Return the parts of a case page that change, for the page to swap in place."""
    svc = get_services()
    case = load_case(svc, case_id)
    file: CaseFile = case_file(svc, case, g.staff_user)
    parts = {name: render_template(f"staff/_case_{name}.html", file=file, case=case, drafts={})
             for name in ("head", "actions", "reply", "timeline", "notes")}
    parts["transcript"] = render_template("staff/_transcript.html", file=file, case=case)
    return jsonify(status=case.status, claimed_by=case.claimed_by, reply_state=file.reply_state, parts=parts)


@bp.post("/cases/<case_id>/claim")
@login_required()
def claim(case_id: str) -> ResponseReturnValue:
    """Claim an open case."""
    svc = get_services()
    case = load_case(svc, case_id)
    try:  # compare-and-set: of two colleagues claiming at once, one gets it
        svc.cases.update(case, "claimed", by=g.staff_user.username, expect={"status": "open"},
                         status="claimed", claimed_by=g.staff_user.username)
    except CaseConflict:
        case = load_case(svc, case_id)
        return refused(svc, case, 409, _("This case is not open for claiming.") + " " + not_allowed(case))
    audit(svc, g.staff_user.username, "claim", case.id)
    notify_person(svc, case, "handoff_joined")
    return done(case)


@bp.post("/cases/<case_id>/transfer")
@login_required()
def transfer(case_id: str) -> ResponseReturnValue:
    """Hand a case to a colleague with a hand-over note."""
    svc = get_services()
    case = load_case(svc, case_id)
    colleague = request.form.get("to", "")
    note_text = request.form.get("note", "").strip()[:MAX_REPLY]
    if "transfer" not in allowed_actions(case, g.staff_user):
        return refused(svc, case, 403, not_allowed(case), handover=note_text)
    if accounts(svc).get(colleague) is None or colleague == case.claimed_by:
        return refused(svc, case, 400, _("Choose a colleague to transfer to."), handover=note_text)
    if not note_text:
        return refused(svc, case, 400, _("Write a hand-over note for your colleague."), handover=note_text)
    try:  # only from the state the page showed: a concurrent claim or close wins
        svc.cases.update(case, "transferred", by=g.staff_user.username, detail=note_text,
                         expect={"status": case.status, "claimed_by": case.claimed_by},
                         status="claimed", claimed_by=colleague)
    except CaseConflict:
        case = load_case(svc, case_id)
        return refused(svc, case, 409, not_allowed(case), handover=note_text)
    audit(svc, g.staff_user.username, "transfer", case.id, detail=f"to {colleague}")
    return done(case)


@bp.post("/cases/<case_id>/reply")
@login_required()
def reply(case_id: str) -> ResponseReturnValue:
    """Send a reply to the person through Twilio (only when safe and inside the contact window)."""
    svc = get_services()
    case = load_case(svc, case_id)
    text = request.form.get("text", "").strip()[:MAX_REPLY]
    if "reply" not in allowed_actions(case, g.staff_user):
        return refused(svc, case, 403, not_allowed(case), reply=text)
    if not text:
        return refused(svc, case, 400, _("Write a reply first."), reply=text)
    try:
        staff_reply(svc, case, g.staff_user.username, text)
    except OutboundRefused as exc:
        audit(svc, g.staff_user.username, "reply_refused", case.id, detail=exc.code)
        return refused(svc, case, 409, _("Not sent:") + " " + reason_text(svc, exc.code, str(exc)), reply=text)
    audit(svc, g.staff_user.username, "reply", case.id)
    return done(case)


@bp.post("/cases/<case_id>/note")
@login_required()
def note(case_id: str) -> ResponseReturnValue:
    """Add an internal note (never sent to the person)."""
    svc = get_services()
    case = load_case(svc, case_id)
    text = request.form.get("text", "").strip()[:MAX_REPLY]
    if not text:
        return refused(svc, case, 400, _("Write a note first."))
    svc.cases.add_note(case, g.staff_user.username, text)
    audit(svc, g.staff_user.username, "note", case.id)
    return done(case)


@bp.post("/cases/<case_id>/close")
@login_required()
def close(case_id: str) -> ResponseReturnValue:
    """Close a case with an outcome and a short summary; the bot resumes for the person."""
    svc = get_services()
    case = load_case(svc, case_id)
    outcome = request.form.get("outcome", "")
    summary = request.form.get("summary", "").strip()[:MAX_SUMMARY]
    if "close" not in allowed_actions(case, g.staff_user):
        return refused(svc, case, 403, not_allowed(case), summary=summary)
    if outcome not in OUTCOMES or not summary:
        return refused(svc, case, 400, _("Choose an outcome and write a short summary to close this case."),
                       summary=summary)
    try:
        close_case(svc, case, g.staff_user.username, outcome, summary)
    except CaseConflict:
        case = load_case(svc, case_id)
        return refused(svc, case, 409, not_allowed(case), summary=summary)
    audit(svc, g.staff_user.username, "close", case.id, detail=outcome)
    return done(case, url_for("staff.queue"))


STAFF_SEARCH_KM = 300  # staff see further than "near": they can judge the distance


def find_entries(svc: Services, query: str) -> tuple[list[dict[str, object]], bool]:
    """Look up directory entries near the place named in a query, then that country's national
    entries (and whether a place was found). Staff see further than the bot's "near"."""
    desk = svc.desk
    desk.refresh()
    place = match_place(desk.finder, query)
    if place is None:
        return [], False
    categories = words_for(svc.registry, query, "categories")
    category = categories[0] if categories else None
    results = [*desk.index.nearest(place.latitude, place.longitude, category, set(), STAFF_SEARCH_KM)[:10],
               *desk.index.national(place.country, category, set())]
    return results, True


@bp.post("/cases/<case_id>/resources")
@login_required()
def find_resources(case_id: str) -> ResponseReturnValue:
    """Look up resources near a place, each previewed as the person would get it."""
    svc = get_services()
    case = load_case(svc, case_id)
    query = request.form.get("query", "").strip()[:200]
    results, place_found = find_entries(svc, query)
    previews = [render_resource_list(svc, case.language, [entry], more=False, footer_line=False)
                for entry in results]
    audit(svc, g.staff_user.username, "resource_lookup", case.id)
    found = {"query": query, "place_found": place_found, "results": list(zip(results, previews, strict=True))}
    if wants_json():
        html = render_template("staff/_resources.html", case=case, resources=found,
                               file=case_file(svc, case, g.staff_user))
        return jsonify(ok=True, html=html)
    return render_case(svc, case, resources=found)


@bp.post("/cases/<case_id>/send-resource")
@login_required()
def send_resource(case_id: str) -> ResponseReturnValue:
    """Send a directory entry to the person, in their language, by the bot's own renderer."""
    svc = get_services()
    case = load_case(svc, case_id)
    entry = svc.desk.index.get(request.form.get("resource", "")[:100])
    if "reply" not in allowed_actions(case, g.staff_user):
        return refused(svc, case, 403, not_allowed(case))
    if entry is None:
        return refused(svc, case, 404, _("That resource is no longer in the directory."))
    text = render_resource_list(svc, case.language, [entry], more=False, footer_line=False)
    try:
        staff_reply(svc, case, g.staff_user.username, text)
    except OutboundRefused as exc:
        audit(svc, g.staff_user.username, "reply_refused", case.id, detail=exc.code)
        return refused(svc, case, 409, _("Not sent:") + " " + reason_text(svc, exc.code, str(exc)))
    audit(svc, g.staff_user.username, "resource_sent", case.id, detail=str(entry.get("id", "")))
    return done(case)


# --- supervisors and machines --------------------------------------------------------------
@bp.get("/audit")
@login_required(role="supervisor")
def audit_log() -> str:
    """Show the audit log (supervisors only)."""
    return render_template("staff/audit.html", entries=recent_audit(get_services()))


def parse_since(value: str) -> float | None:
    """Parse an ISO 8601 time (UTC when no zone is given) into epoch seconds; None if malformed."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


@bp.get("/api/escalations")
def api_escalations() -> ResponseReturnValue:
    """List cases for machines (Bearer STAFF_API_TOKEN), newest last; never a phone number.

    Every open case by default; `?since=<ISO 8601>` every case opened after then, whatever its
    status; `?status=all` recent cases of any status; `?limit=N` caps the list."""
    svc = get_services()
    if not api_token_valid(svc) and current_user(svc) is None:
        abort(401)
    limit_arg = request.args.get("limit", "")
    limit = int(limit_arg) if limit_arg.isdigit() else None
    if "since" in request.args:
        since = parse_since(request.args["since"])
        if since is None:
            return jsonify(error="since must be an ISO 8601 time"), 400
        cases = svc.cases.opened_since(since, limit)
    else:
        cases = svc.cases.queue() if request.args.get("status", "active") == "active" else svc.cases.recent(200)
        cases.sort(key=lambda c: c.created_at)
        cases = cases[-limit:] if limit else cases
    return jsonify([case.public() for case in cases])


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Add security headers to console pages; never cache pages with personal data."""
    if request.path.startswith("/staff"):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self' data:; connect-src 'self'; "
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
