"""The Reports page, its CSV exports and the stats API: aggregate figures only, small counts hidden."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from bot.core.services import Services, get_services
from bot.staff import charts, labels
from bot.staff.audit import audit
from bot.staff.auth import api_token_valid, current_user, login_required
from bot.staff.i18n import gettext as _
from bot.staff.stats import CASE_COLUMNS, KEYWORDS, PRIORITIES, RangeError, ReportRange, build_report, case_rows
from bot.staff.suppression import Suppressor

bp = Blueprint("reports", __name__, url_prefix="/staff", template_folder="templates")


def suppressor(svc: Services) -> Suppressor:
    """Return the suppression rule of the settings."""
    return Suppressor(svc.settings.report_min_count)


def requested_range(svc: Services) -> ReportRange:
    """Read the range and filters of the request (400 when they cannot be used)."""
    try:
        return ReportRange.parse(request.args, svc.registry.codes)
    except RangeError as exc:
        abort(400, str(exc))


def report_for(svc: Services, span: ReportRange) -> dict[str, Any]:
    """Compute the suppressed report of a range."""
    return build_report(svc.db, span, suppressor(svc), list(svc.registry.codes))


@bp.get("/api/stats")
def api_stats() -> ResponseReturnValue:
    """Return a range's aggregate figures as JSON (Bearer STAFF_API_TOKEN, or a supervisor's session)."""
    svc = get_services()
    if not api_token_valid(svc):
        user = current_user(svc)
        if user is None:
            abort(401)
        if not user.supervisor:
            abort(403)
    try:
        span = ReportRange.parse(request.args, svc.registry.codes)
    except RangeError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(report_for(svc, span))


def chart_set(report: dict[str, Any]) -> dict[str, object]:
    """Draw the page's charts from a report."""
    days = report["days"]
    names = {**labels.priority_labels(), **labels.channel_labels(), **labels.outcome_labels()}

    def stacked(title: str, table: dict[str, Any]) -> object:
        series = [(names.get(c, c), [table["cells"][d][c] for d in days]) for c in table["columns"]]
        return charts.stacked_days(title, days, series)

    def bars(title: str, table: dict[str, Any]) -> object:
        return charts.bars(title, [(names.get(c, c), table["cells"]["all"][c]) for c in table["columns"]])

    def times(title: str, figures: dict[str, Any]) -> object:
        series = [(_("Median"), [figures["days"][d]["median"] for d in days]),
                  (_("90th percentile"), [figures["days"][d]["p90"] for d in days])]
        return charts.lines(title, days, series, " s")

    rates = report["not_understood_by_language"]
    return {
        "by_language": stacked(_("Contacts per day by language"), report["contacts_by_language"]),
        "by_channel": stacked(_("Contacts per day by channel"), report["contacts_by_channel"]),
        "topics": bars(_("What people asked about"), report["topics"]),
        "resources": bars(_("Resource categories looked up"), report["resource_categories"]),
        "escalations": stacked(_("Escalations per day by priority"), report["escalations_by_priority"]),
        "claim": times(_("Time to claim"), report["time_to_claim"]),
        "first_reply": times(_("Time to first staff reply"), report["time_to_first_reply"]),
        "outcomes": bars(_("Outcomes of closed cases"), report["outcomes"]),
        "keywords": stacked(_("STOP, DELETE, EXIT and HELP"), report["keywords"]),
        "not_understood": charts.bars(_("Not understood, per 100 messages"), [
            (language, round(100 * figures["rate"]) if isinstance(figures["rate"], float) else figures["rate"] or 0)
            for language, figures in rates.items()]),
    }


@bp.get("/reports")
@login_required(role="supervisor")
def reports_page() -> ResponseReturnValue:
    """Show the Reports page: figures for a range as charts and tables (supervisors only)."""
    svc = get_services()
    try:
        span = ReportRange.parse(request.args, svc.registry.codes)
    except RangeError as exc:
        span, error = ReportRange.parse({}, svc.registry.codes), str(exc)
    else:
        error = ""
    report = report_for(svc, span)
    return render_template("staff/reports.html", report=report, charts=chart_set(report), span=span, error=error,
                           languages=svc.registry.languages, query=request.query_string.decode(),
                           names={**labels.priority_labels(), **labels.channel_labels(), **labels.outcome_labels()},
                           priorities=PRIORITIES, keywords=KEYWORDS), 400 if error else 200


def csv_response(rows: list[list[object]], filename: str) -> Response:
    """Answer with a CSV download (cells that a spreadsheet would run as formulas are quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def daily_rows(report: dict[str, Any]) -> list[list[object]]:
    """Lay a report out as one row per day (and a total row), every figure suppressed."""
    groups = [("", report["activity"]), ("contacts_", report["contacts_by_language"]),
              ("contacts_", report["contacts_by_channel"]), ("escalations_", report["escalations_by_priority"]),
              ("keyword_", report["keywords"])]
    header: list[object] = ["day"] + [prefix + column for prefix, table in groups for column in table["columns"]]
    header += ["claim_n", "claim_median_s", "claim_p90_s", "first_reply_n", "first_reply_median_s",
               "first_reply_p90_s", "unclaimed_at_reminder", "outside_hours"]
    rows = [header]

    def timing(name: str, key: str) -> list[object]:
        figures = report[name]["days"][key] if key != "total" else report[name]["all"]
        return [figures["n"], figures["median"], figures["p90"]]

    for day in [*report["days"], "total"]:
        row: list[object] = [day]
        for _prefix, table in groups:
            cells = table["cells"].get(day) if day != "total" else table["column_totals"]
            row += [cells[column] for column in table["columns"]]
        row += timing("time_to_claim", day) + timing("time_to_first_reply", day)
        for name in ("unclaimed_at_reminder", "outside_hours"):
            row.append((report[name]["days"][day] if day != "total" else report[name]["all"])["count"])
        rows.append(row)
    return rows


@bp.get("/reports/daily.csv")
@login_required(role="supervisor")
def daily_csv() -> Response:
    """Download the range's figures per day as CSV."""
    svc = get_services()
    span = requested_range(svc)
    audit(svc, g.staff_user.username, "report_export", detail=f"daily {span.start}..{span.end}")
    return csv_response(daily_rows(report_for(svc, span)), f"lantern-daily-{span.start}-{span.end}.csv")


@bp.get("/reports/cases.csv")
@login_required(role="supervisor")
def cases_csv() -> Response:
    """Download one row per case opened in the range: times, priority, reason, outcome; never a number or text."""
    svc = get_services()
    span = requested_range(svc)
    audit(svc, g.staff_user.username, "report_export", detail=f"cases {span.start}..{span.end}")
    rows: list[list[object]] = [list(CASE_COLUMNS)]
    rows += [[row[column] for column in CASE_COLUMNS] for row in case_rows(svc.db, span)]
    return csv_response(rows, f"lantern-cases-{span.start}-{span.end}.csv")
