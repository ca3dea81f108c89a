"""Reports, exports, the stats API and /metrics on the fast pipeline: a scripted day of conversations,
exact figures, small-count suppression and a scan of every output for personal data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

import bot.handoff.cases as cases_module
from bot.app import create_app
from bot.core.database import events
from bot.core.events import EventLog
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import remind_unclaimed
from bot.staff.accounts import Accounts
from bot.staff.suppression import Suppressor
from tests.conftest import STAFF_API_TOKEN, Pipeline, StaffBrowser, TwilioHarness

DAY = "2026-03-02"
NEXT_DAY = "2026-03-03"
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc).timestamp()
ENGLISH = [f"+2547111000{n:02d}" for n in range(1, 5)]
SWAHILI = [f"+2547222000{n:02d}" for n in range(1, 4)]
FRENCH = "+33612000001"
ASK_SIGNS = "what are the signs of trafficking"
ASK_PERSON = "please I want to talk to a person now"
FRENCH_DANGER = "ils me frappent et gardent mon passeport"
NONSENSE = "zork qwerty blah"
TEXTS = [ASK_SIGNS, ASK_PERSON, FRENCH_DANGER, NONSENSE]
BEARER = {"Authorization": f"Bearer {STAFF_API_TOKEN}"}


@pytest.fixture
def day(pipeline: Pipeline, gateway: TwilioHarness, console: StaffBrowser,
        monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """Play a scripted day (and a bit of the next) through the signed webhook and the console."""
    pipeline.clock.now = START
    monkeypatch.setattr(cases_module, "time", SimpleNamespace(time=pipeline.clock))  # cases on the same clock
    pipeline.rasa.answers.update({ASK_SIGNS: ["utter_signs_1"], ASK_PERSON: ["utter_escalate_urgent"],
                                  FRENCH_DANGER: ["utter_escalate_emergency"]})
    for number in ENGLISH:
        gateway.text(number, "hi")
        gateway.text(number, "1")
        gateway.text(number, ASK_SIGNS)
    for number in SWAHILI:
        gateway.text(number, "hi", whatsapp=True)
        gateway.text(number, "5", whatsapp=True)
        gateway.text(number, "1", whatsapp=True)
    gateway.text(FRENCH, "hi")
    gateway.text(FRENCH, "3")
    gateway.text(ENGLISH[0], NONSENSE)
    pipeline.clock.now = START + 3600  # 09:00: three urgent cases and one emergency open at once
    for number in ENGLISH[:3]:
        gateway.text(number, ASK_PERSON)
    gateway.text(FRENCH, FRENCH_DANGER)
    cases = [pipeline.case(number) for number in ENGLISH[:3]]
    assert [c.priority for c in cases if c] == ["urgent"] * 3
    assert (french := pipeline.case(FRENCH)) is not None and french.priority == "emergency"
    for seconds, case in zip((60, 180, 360), cases, strict=True):
        pipeline.clock.now = START + 3600 + seconds
        assert case is not None and console.post(f"/staff/cases/{case.id}/claim").status_code == 302
    for seconds, case in zip((400, 500, 600), cases, strict=True):
        pipeline.clock.now = START + 3600 + seconds
        assert case is not None
        assert console.post(f"/staff/cases/{case.id}/reply", text="We are here.").status_code == 302
    pipeline.clock.now = START + 3600 + 700
    assert remind_unclaimed(pipeline.svc) == 1  # only the French emergency is still unclaimed
    pipeline.clock.now = START + 3600 + 800
    for case, outcome in zip(cases, ("referred", "referred", "resolved"), strict=True):
        assert case is not None
        assert console.post(f"/staff/cases/{case.id}/close", outcome=outcome, summary="Done").status_code == 302
    pipeline.clock.now = START + 2 * 3600  # 10:00
    for number in SWAHILI:
        gateway.text(number, "STOP", whatsapp=True)
    gateway.text(ENGLISH[3], "HELP")
    pipeline.clock.now = START + 24 * 3600  # the next day, three people write again
    for number in ENGLISH[:3]:
        gateway.text(number, "menu")
    return pipeline


def stats(console: StaffBrowser, **args: str) -> dict[str, object]:
    """Ask the stats API with the Bearer token."""
    response = console.client.get("/staff/api/stats", query_string={"from": DAY, "to": NEXT_DAY, **args},
                                  headers=BEARER)
    assert response.status_code == 200, response.data
    return response.get_json()  # type: ignore[no-any-return]


def test_the_stats_api_gives_the_scripted_days_exact_figures(day: Pipeline, console: StaffBrowser) -> None:
    """People per language and channel, escalations, times, reminders, outcomes, keywords: exact, suppressed."""
    report = stats(console)
    languages = report["contacts_by_language"]
    assert languages["cells"] == {DAY: {"en": 4, "sw": 3, "fr": "<3"}, NEXT_DAY: {"en": 3, "sw": 0, "fr": 0}}
    assert languages["row_totals"] == {DAY: 8, NEXT_DAY: 3} and languages["total"] == 11
    assert languages["column_totals"] == {"en": 7, "sw": 3, "fr": "<3"}
    assert report["contacts_by_channel"]["cells"] == {DAY: {"sms": 5, "whatsapp": 3},
                                                      NEXT_DAY: {"sms": 3, "whatsapp": 0}}
    activity = report["activity"]["cells"]
    assert activity[DAY]["new_contacts"] == 8 and activity[NEXT_DAY]["new_contacts"] == 0
    assert report["topics"]["cells"]["all"]["signs"] == 4
    # One emergency (hidden) and three urgent: the urgent cell and column total are hidden too,
    # or 4 - 3 would give the emergency count away.
    escalations = report["escalations_by_priority"]
    assert escalations["cells"][DAY] == {"emergency": "<3", "urgent": "*", "normal": 0}
    assert escalations["row_totals"][DAY] == 4
    assert escalations["column_totals"] == {"emergency": "<3", "urgent": "*", "normal": 0}
    assert report["time_to_claim"]["all"] == {"n": 3, "median": 180.0, "p90": 360.0}
    assert report["time_to_first_reply"]["days"][DAY] == {"n": 3, "median": 500.0, "p90": 600.0}
    assert report["time_to_claim"]["days"][NEXT_DAY] == {"n": 0, "median": None, "p90": None}
    assert report["unclaimed_at_reminder"]["all"] == {"escalations": 4, "count": "<3", "share": "<3"}
    assert report["outside_hours"]["all"] == {"escalations": 4, "count": 0, "share": 0.0}
    assert report["outcomes"]["cells"]["all"] == {"referred": "<3", "resolved": "<3"}
    assert report["outcomes"]["total"] == 3
    assert report["keywords"]["cells"][DAY] == {"stop": "*", "delete": 0, "exit": 0, "help": "<3"}
    assert report["keywords"]["row_totals"][DAY] == 4
    assert report["not_understood_by_language"]["en"]["not_understood"] == "<3"
    reasons = report["escalation_reasons"]
    assert reasons["cells"]["all"]["risk disclosure (nlu)"] == "*" and reasons["total"] == 4, "3 and 1: both hidden"


def test_filters_narrow_every_figure(day: Pipeline, console: StaffBrowser) -> None:
    """Filtering on WhatsApp leaves the three Swahili speakers and their STOPs."""
    report = stats(console, channel="whatsapp")
    assert report["contacts_by_language"]["cells"][DAY] == {"sw": 3}
    assert report["keywords"]["cells"][DAY]["stop"] == 3 and report["escalations_by_priority"]["total"] == 0
    assert stats(console, language="fr")["escalations_by_priority"]["total"] == "<3"


@pytest.mark.parametrize("args,status", [
    ({"from": "2026-03-05", "to": "2026-03-01"}, 400), ({"from": "yesterday"}, 400),
    ({"from": "2024-01-01", "to": "2026-01-01"}, 400), ({"language": "xx"}, 400), ({"channel": "fax"}, 400),
])
def test_the_stats_api_refuses_ranges_it_cannot_use(pipeline: Pipeline, console: StaffBrowser,
                                                    args: dict[str, str], status: int) -> None:
    assert console.client.get("/staff/api/stats", query_string=args, headers=BEARER).status_code == status


def test_the_stats_api_needs_the_token_or_a_supervisor(pipeline: Pipeline) -> None:
    app = create_app(pipeline.svc.settings, services=pipeline.svc)
    assert app.test_client().get("/staff/api/stats").status_code == 401
    assert app.test_client().get("/staff/api/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    Accounts(pipeline.svc.db, pipeline.redis, pipeline.svc.keys).create("juma", "a-long-enough-password", "staff")
    counsellor = StaffBrowser(app.test_client())
    assert counsellor.login("juma", "a-long-enough-password") == 302
    assert counsellor.client.get("/staff/api/stats").status_code == 403
    assert counsellor.client.get("/staff/reports").status_code == 403
    assert counsellor.client.get("/staff/reports/cases.csv").status_code == 403


def read_csv(console: StaffBrowser, path: str) -> list[dict[str, str]]:
    """Download a CSV export of the scripted range."""
    response = console.client.get(path, query_string={"from": DAY, "to": NEXT_DAY})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode())))


def test_the_csv_exports_give_the_same_figures_per_day_and_per_case(day: Pipeline, console: StaffBrowser) -> None:
    daily = {row["day"]: row for row in read_csv(console, "/staff/reports/daily.csv")}
    assert list(daily) == [DAY, NEXT_DAY, "total"]
    assert daily[DAY]["contacts_en"] == "4" and daily[DAY]["contacts_fr"] == "<3"
    assert daily[NEXT_DAY]["contacts_en"] == "3"
    assert daily[DAY]["escalations_emergency"] == "<3" and daily[DAY]["escalations_urgent"] == "*"
    assert (daily[DAY]["claim_n"], daily[DAY]["claim_median_s"], daily[DAY]["claim_p90_s"]) == ("3", "180.0", "360.0")
    assert daily["total"]["contacts_sw"] == "3" and daily[DAY]["unclaimed_at_reminder"] == "<3"
    cases = read_csv(console, "/staff/reports/cases.csv")
    assert len(cases) == 4
    urgent = sorted((row for row in cases if row["priority"] == "urgent"), key=lambda row: int(row["claimed_after_s"]))
    assert [(r["claimed_after_s"], r["first_reply_after_s"], r["closed_after_s"], r["outcome"]) for r in urgent] == [
        ("60", "400", "800", "referred"), ("180", "500", "800", "referred"), ("360", "600", "800", "resolved")]
    assert all(r["opened"] == f"{DAY}T09:00Z" and r["language"] == "en" and r["channel"] == "sms" for r in urgent)
    emergency = next(row for row in cases if row["priority"] == "emergency")
    assert (emergency["language"], emergency["claimed_after_s"], emergency["outcome"]) == ("fr", "", "")


def test_figures_stay_after_cases_are_deleted_by_retention(day: Pipeline, console: StaffBrowser) -> None:
    before = stats(console)
    assert day.svc.cases.purge_expired(now=START + 400 * 24 * 3600) == 4
    assert stats(console) == before


def test_the_reports_page_draws_charts_and_tables_for_supervisors(day: Pipeline, console: StaffBrowser) -> None:
    page = console.client.get("/staff/reports", query_string={"from": DAY, "to": NEXT_DAY})
    html = page.data.decode()
    assert page.status_code == 200 and html.count("<svg") >= 10 and html.count('<table class="plain figures"') >= 10
    assert "&lt;3" in html and "https://" not in html.split("<main", 1)[1]
    assert console.client.get("/staff/reports?from=nonsense").status_code == 400
    console.client.post("/staff/language", data={"csrf_token": console.csrf, "language": "sw"})
    assert "<h1>Ripoti</h1>" in console.client.get("/staff/reports").data.decode()


def metrics_text(pipeline: Pipeline, headers: dict[str, str] | None = None, **settings: object) -> tuple[int, str]:
    """Scrape /metrics from the test client's loopback address."""
    from dataclasses import replace

    svc = replace(pipeline.svc, settings=replace(pipeline.svc.settings, **settings))
    response = create_app(svc.settings, services=svc).test_client().get("/metrics", headers=headers or {})
    return response.status_code, response.data.decode()


def metric(text: str, series: str) -> float:
    """Return one series' value from a scrape (0 when absent)."""
    found = re.search(re.escape(series) + r" ([0-9.e+-]+)\n", text)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_webhooks_rasa_cases_and_refusals(pipeline: Pipeline, gateway: TwilioHarness) -> None:
    """Counters are per process (these tests share one), so the test reads what one day adds."""
    before = metrics_text(pipeline)[1]
    gateway.text(ENGLISH[0], "hi")
    gateway.text(ENGLISH[0], "1")
    pipeline.rasa.answers[FRENCH_DANGER] = ["utter_escalate_emergency"]
    gateway.text(FRENCH, "hi")
    gateway.text(FRENCH, "3")
    gateway.text(FRENCH, FRENCH_DANGER)
    status, text = metrics_text(pipeline)
    assert status == 200

    def added(series: str) -> float:
        return metric(text, series) - metric(before, series)

    assert added('lantern_webhook_requests_total{outcome="answered"}') == 5
    assert added("lantern_webhook_seconds_count") == 5
    assert added("lantern_rasa_call_seconds_count") == 3 and added("lantern_rasa_failures_total") == 0
    assert added('lantern_report_events_total{kind="escalation"}') == 1
    assert metric(text, 'lantern_cases_active{priority="emergency",status="open"}') == 1
    assert metric(text, 'lantern_cases_active{priority="urgent",status="open"}') == 0
    assert "lantern_oldest_unclaimed_case_seconds" in text
    assert metric(text, "lantern_job_queue_depth") == 2, "the escalation queued the on-call alert and the Rasa pause"
    pipeline.run_jobs()
    assert metric(metrics_text(pipeline)[1], "lantern_job_queue_depth") == 0
    assert 'lantern_state_source_up{source="database"} 1.0' in text


def test_metrics_refuse_proxied_or_outside_scrapers_and_check_the_token(pipeline: Pipeline) -> None:
    assert metrics_text(pipeline, {"X-Forwarded-For": "203.0.113.9"})[0] == 403
    assert metrics_text(pipeline, metrics_allowed_networks=("10.0.0.0/8",))[0] == 403
    assert metrics_text(pipeline, metrics_token="a-long-metrics-token")[0] == 401
    assert metrics_text(pipeline, {"Authorization": "Bearer a-long-metrics-token"},
                        metrics_token="a-long-metrics-token")[0] == 200


def test_a_refused_reply_and_a_rasa_outage_are_counted(pipeline: Pipeline, gateway: TwilioHarness) -> None:
    before = metrics_text(pipeline)[1]
    pipeline.rasa.down = True
    gateway.text("+254711000999", "hi")
    gateway.text("+254711000999", "1")
    gateway.post_raw("Body=hi", signature="forged")
    pipeline.svc.outbound.send_to_person(pipeline.person("+254711000999"), "+254711000999", "sms", "ok")
    pipeline.clock.advance(2 * 24 * 3600)
    with pytest.raises(OutboundRefused):
        pipeline.svc.outbound.send_to_person(pipeline.person("+254711000999"), "+254711000999", "sms", "late")
    text = metrics_text(pipeline)[1]
    for series, count in [('lantern_fallback_replies_total{reason="rasa_down"}', 1), ("lantern_rasa_failures_total", 1),
                          ('lantern_webhook_requests_total{outcome="answered"}', 2),
                          ('lantern_webhook_requests_total{outcome="bad_signature"}', 1),
                          ('lantern_outbound_refused_total{reason="window_closed"}', 1)]:
        assert metric(text, series) - metric(before, series) == count, series


def test_no_output_holds_a_number_a_text_or_a_keyed_hash(day: Pipeline, console: StaffBrowser) -> None:
    """Scan the page, both CSVs, the API and /metrics for every number, message and hash of the day."""
    args = {"from": DAY, "to": NEXT_DAY}
    paths = ("/staff/reports", "/staff/reports/daily.csv", "/staff/reports/cases.csv", "/staff/api/stats")
    outputs = [console.client.get(path, query_string=args, headers=BEARER).data.decode() for path in paths]
    outputs.append(metrics_text(day)[1])
    with day.svc.db.connect() as connection:
        tags = set(connection.execute(select(events.c.contact)).scalars()) - {""}
        case_ids = set(connection.execute(select(events.c.case_id)).scalars()) - {""}
    numbers = [*ENGLISH, *SWAHILI, FRENCH]
    secrets = {n.lstrip("+") for n in numbers} | {n[-9:] for n in numbers} | set(TEXTS) | {"We are here.", "Done"}
    secrets |= {day.person(n) for n in numbers} | {day.person(n)[:12] for n in numbers} | tags
    assert len(tags) >= 8
    for output in outputs:
        found = [s for s in secrets if s in output]
        assert not found, found
        without_ids = re.sub("|".join(case_ids), "", output) if case_ids else output  # hex ids may be all digits
        assert not re.search(r"\d{9,}", re.sub(r"\d+\.\d+(e[+-]\d+)?", "", without_ids)), "nothing like a number"


def test_contact_tags_change_every_day_and_are_not_the_keyed_hash(day: Pipeline) -> None:
    person = day.person(ENGLISH[0])
    with day.svc.db.connect() as connection:
        rows = connection.execute(select(events.c.day, events.c.contact).where(events.c.contact != "")).all()
    first = {tag for d, tag in rows if d == DAY}
    second = {tag for d, tag in rows if d == NEXT_DAY}
    assert len(first) == 8 and len(second) == 3 and not first & second
    assert all(person[:12] not in tag for tag in first | second)


def test_recording_never_breaks_a_reply(pipeline: Pipeline, caplog: pytest.LogCaptureFixture) -> None:
    """With the events table gone, people are still answered and the log names no one."""
    from bot.core.database import Database

    broken = EventLog(Database("sqlite:////nonexistent/dir/x.db"), pipeline.svc.events.salts, pipeline.clock)
    from dataclasses import replace

    pipeline.svc = replace(pipeline.svc, events=broken)
    assert pipeline.text("hi", sender="+254711000777")
    assert "report event not recorded" in caplog.text and "711000777" not in caplog.text


@pytest.mark.parametrize("counts,expected", [
    ({"a": 5, "b": 1}, {"a": "*", "b": "<3"}),  # 6 - 5 would give b away
    ({"a": 5, "b": 1, "c": 2}, {"a": 5, "b": "<3", "c": "<3"}),  # two hidden already
    ({"a": 0, "b": 4}, {"a": 0, "b": 4}),
    ({"a": 3, "b": 2, "c": 9}, {"a": "*", "b": "<3", "c": 9}),
])
def test_suppression_hides_small_cells_and_one_more_when_a_total_would_tell(
        counts: dict[str, int], expected: dict[str, object]) -> None:
    table = Suppressor(3).table({"all": counts}, ["all"], list(counts))
    assert table.cells["all"] == expected


def test_a_rate_hides_when_its_part_or_the_rest_is_small() -> None:
    hide = Suppressor(3)
    assert [hide.rate(1, 50), hide.rate(49, 50), hide.rate(10, 50), hide.rate(0, 0), hide.rate(0, 2)] == [
        "<3", "<3", 0.2, None, "<3"]


def test_the_json_is_plain_data() -> None:
    table = Suppressor(5).table({"d": {"x": 4}}, ["d"], ["x"])
    assert json.loads(json.dumps(table.as_json()))["cells"] == {"d": {"x": "<5"}}
