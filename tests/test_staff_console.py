"""The staff console without a browser: queue views, the case record, reply safety, reply tools.

Runs on the fast pipeline (real Redis, catalogs and app; recording fakes of Rasa and Twilio)."""

from __future__ import annotations

import re
import time

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from bot.app import create_app
from bot.handoff.cases import Case
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import remind_unclaimed, staff_reply
from bot.language.catalogs import placeholders
from bot.staff.accounts import Accounts, StaffUser
from bot.staff.accounts import main as staff_user_command
from bot.staff.canned import SOURCE as CANNED
from bot.staff.i18n import CONSOLE_LANGUAGES, TRANSLATIONS_DIR
from bot.staff.queue import QueueContext, QueueFilter, build_page
from tests.conftest import ROOT, Pipeline, StaffBrowser, stored_entries

PASSWORD = "a-long-enough-password"
JSON = {"X-Requested-With": "lantern-console"}


def open_case(p: Pipeline, number: str, language: str = "en", priority: str = "urgent", age: float = 0,
              channel: str = "sms") -> Case:
    """Open a case as the pipeline would for someone who has just written."""
    person = p.svc.person_id(number)
    p.svc.people.update(person, last_inbound=time.time(), language=language)
    return p.svc.cases.open(person, number, channel, language, priority, "risk disclosure (screen)", [],
                            time.time() - age)


def console(p: Pipeline, username: str, role: str = "staff", languages: tuple[str, ...] = ()) -> StaffBrowser:
    """Create an account and log it in to an app using the pipeline's services."""
    Accounts(p.svc.db, p.svc.redis, p.svc.keys).create(username, PASSWORD, role, languages)
    browser = StaffBrowser(create_app(p.svc.settings, services=p.svc).test_client())
    assert browser.login(username, PASSWORD) == 302
    return browser


def rows(html: str) -> list[str]:
    """Return the case ids listed in a queue page, in order."""
    return re.findall(r'<tr class="row[^"]*" data-case="([0-9a-f]+)"', html)


# --- the queue -------------------------------------------------------------------------------
def test_queue_orders_by_priority_then_wait_and_counts_every_filter(pipeline: Pipeline) -> None:
    """Most urgent first, longest wait first within a priority; counts follow the other filters."""
    old_normal = open_case(pipeline, "+254711000101", "sw", "normal", age=3000)
    new_emergency = open_case(pipeline, "+254711000102", "ar", "emergency", age=10)
    old_urgent = open_case(pipeline, "+254711000103", "sw", "urgent", age=2000)
    newer_urgent = open_case(pipeline, "+254711000104", "en", "urgent", age=100, channel="whatsapp")
    user = StaffUser("amina", "supervisor")
    ctx = QueueContext(user, time.time(), overdue_after=1000)
    cases = pipeline.svc.cases.queue()
    page = build_page(cases, QueueFilter(), ctx, ["en", "sw", "ar"])
    assert [c.id for _, c in page.rows] == [new_emergency.id, old_urgent.id, newer_urgent.id, old_normal.id]
    assert page.counts["priority:urgent"] == 2 and page.counts["language:sw"] == 2 and page.counts["overdue"] == 2
    narrowed = build_page(cases, QueueFilter(language="sw"), ctx, ["en", "sw", "ar"])
    assert [c.id for _, c in narrowed.rows] == [old_urgent.id, old_normal.id]
    assert narrowed.counts["priority:urgent"] == 1 and narrowed.counts["channel:whatsapp"] == 0


def test_a_counsellors_default_view_is_unclaimed_in_their_languages_then_theirs(pipeline: Pipeline) -> None:
    """Unclaimed cases in the languages on the profile (and every unclaimed emergency), then theirs."""
    swahili = open_case(pipeline, "+254711000201", "sw", "normal")
    arabic = open_case(pipeline, "+254711000202", "ar", "urgent")
    arabic_emergency = open_case(pipeline, "+254711000203", "ar", "emergency")
    mine = open_case(pipeline, "+254711000204", "fr", "normal")
    pipeline.svc.cases.update(mine, "claimed", by="amina", status="claimed", claimed_by="amina")
    others = open_case(pipeline, "+254711000205", "sw", "urgent")
    pipeline.svc.cases.update(others, "claimed", by="juma", status="claimed", claimed_by="juma")
    amina = console(pipeline, "amina", languages=("sw", "en"))
    html = amina.client.get("/staff/").data.decode()
    assert rows(html) == [arabic_emergency.id, swahili.id, mine.id]
    assert arabic.id not in rows(html)
    assert rows(amina.client.get("/staff/?mine=1").data.decode()) == [mine.id]
    assert rows(amina.client.get("/staff/?unclaimed=1&language=ar").data.decode()) == [arabic_emergency.id, arabic.id]
    supervisor = console(pipeline, "boss", role="supervisor")
    assert len(rows(supervisor.client.get("/staff/").data.decode())) == 5, "supervisors see everything"


def test_the_queue_pages_searches_by_id_and_marks_overdue_unsafe_new_and_reopened(pipeline: Pipeline) -> None:
    """60 cases make three pages; a case id finds its case; each signal shows in the row."""
    cases = [open_case(pipeline, f"+2547110003{i:02d}", "en", "normal", age=i) for i in range(60)]
    boss = console(pipeline, "boss", role="supervisor")
    first = boss.client.get("/staff/").data.decode()
    assert "Page 1 of 3" in first and len(rows(first)) == 25
    assert len(rows(boss.client.get("/staff/?page=3").data.decode())) == 10
    target = cases[7]
    assert boss.client.get(f"/staff/?q={target.id}").headers["Location"].endswith(f"/staff/cases/{target.id}")
    pipeline.svc.cases.update(target, "updated", safe_to_text="no")
    pipeline.svc.cases.add_turn(cases[8], "user", "are you there?")
    pipeline.svc.cases.update(cases[9], "test", reopened=1)
    pipeline.clock.now = time.time()
    pipeline.svc.cases.update(cases[10], "test", created_at=time.time() - 3600, waiting_since=time.time() - 3600)
    remind_unclaimed(pipeline.svc)
    html = boss.client.get("/staff/?q=" + target.id[:1]).data.decode()
    row = {case_id: html.split(f'data-case="{case_id}"')[1].split("</tr>")[0] for case_id in rows(html)}
    assert "Not safe to text" in row[target.id]
    signals = {c.id: boss.client.get(f"/staff/?q={c.id[:6]}").data.decode() for c in cases[8:11]}
    assert "New message" in signals[cases[8].id]
    assert "Reopened" in signals[cases[9].id]
    assert "Overdue" in signals[cases[10].id]


# --- safety: never write to someone who said it is not safe ------------------------------------
def test_a_staff_reply_is_refused_while_the_person_said_it_is_not_safe(pipeline: Pipeline) -> None:
    """The finding: the reply box stayed active on 'safe to text? no'. Now refused until they write."""
    pipeline.clock.now = time.time()  # the contact window is checked against the real clock
    pipeline.text("hi")
    pipeline.text("1")
    pipeline.text("they took my passport and dont pay me")
    pipeline.text("2")  # not safe to text
    case = pipeline.case()
    assert case is not None and case.silenced
    with pytest.raises(OutboundRefused) as refused:
        staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    pipeline.run_jobs()
    assert refused.value.code == "unsafe" and pipeline.outbound.sent[-1][1] != "+254711000001"
    amina = console(pipeline, "amina")
    amina.post(f"/staff/cases/{case.id}/claim")
    page = amina.client.get(f"/staff/cases/{case.id}").data.decode()
    assert 'id="cannot-send"' in page and "not safe to text" in page and 'id="reply-text"' not in page
    answer = amina.client.post(f"/staff/cases/{case.id}/reply", data={"csrf_token": amina.csrf, "text": "hi"},
                               headers=JSON)
    assert answer.status_code == 409 and "not safe to text" in answer.get_json()["error"]

    pipeline.clock.advance(5)
    pipeline.text("i can talk now")  # they write again: staff may answer
    case = pipeline.case()
    assert case is not None and not case.silenced
    staff_reply(pipeline.svc, case, "amina", "I am here.")
    pipeline.run_jobs()
    assert pipeline.outbound.sent[-1][2] == "I am here."


# --- actions: only what is allowed, errors in the page, typed text kept ---------------------------
def test_refused_actions_answer_in_the_page_and_keep_the_typed_text(pipeline: Pipeline) -> None:
    """After a transfer, the first owner sees no Reply or Close, and a forced post keeps their text."""
    case = open_case(pipeline, "+254711000401", "sw")
    amina, juma = console(pipeline, "amina"), console(pipeline, "juma")
    assert 'id="claim"' in amina.client.get(f"/staff/cases/{case.id}").data.decode()
    amina.post(f"/staff/cases/{case.id}/claim")
    page = juma.client.get(f"/staff/cases/{case.id}").data.decode()
    assert 'id="claim"' not in page and 'id="reply-text"' not in page and 'id="close-case"' not in page
    assert "Only amina, who has this case" in page

    refused = juma.post(f"/staff/cases/{case.id}/reply", text="Habari, niko hapa.")
    body = refused.data.decode()  # type: ignore[attr-defined]
    assert refused.status_code == 403 and "Forbidden" not in body  # type: ignore[attr-defined]
    assert 'role="alert"' in body and "Only amina" in body and "Habari, niko hapa." in body
    answer = juma.client.post(f"/staff/cases/{case.id}/close", data={"csrf_token": juma.csrf, "outcome": "resolved",
                                                                      "summary": "x"}, headers=JSON)
    assert answer.status_code == 403 and answer.get_json() == {"ok": False, "error": answer.get_json()["error"]}


def test_transfer_needs_a_hand_over_note_and_the_timeline_records_every_event(pipeline: Pipeline) -> None:
    """Opened, claimed, reminder, reply, note, transferred (with note), closed (outcome, summary)."""
    pipeline.clock.now = time.time()
    case = open_case(pipeline, "+254711000501", "sw", age=4000)
    remind_unclaimed(pipeline.svc)
    amina, juma = console(pipeline, "amina", languages=("sw",)), console(pipeline, "juma")
    amina.post(f"/staff/cases/{case.id}/claim")
    amina.post(f"/staff/cases/{case.id}/reply", text="Habari")
    amina.post(f"/staff/cases/{case.id}/note", text="Employer in Mombasa")
    no_note = amina.post(f"/staff/cases/{case.id}/transfer", to="juma", note=" ")
    assert no_note.status_code == 400  # type: ignore[attr-defined]
    assert "hand-over note" in no_note.data.decode()  # type: ignore[attr-defined]
    amina.post(f"/staff/cases/{case.id}/transfer", to="juma", note="Speaks Swahili, prefers evenings.")
    assert juma.post(f"/staff/cases/{case.id}/close", outcome="referred", summary="").status_code == 400  # type: ignore[attr-defined]
    juma.post(f"/staff/cases/{case.id}/close", outcome="referred", summary="Referred to legal aid.")
    events = [(e["event"], e["by"]) for e in pipeline.svc.cases.timeline(case.id)]
    assert events == [("opened", "bot"), ("reminder", "system"), ("claimed", "amina"), ("reply", "amina"),
                      ("note", "amina"), ("transferred", "amina"), ("closed", "juma")]
    transferred = pipeline.svc.cases.timeline(case.id)[5]
    assert transferred["to"] == "juma" and transferred["detail"] == "Speaks Swahili, prefers evenings."
    page = juma.client.get(f"/staff/cases/{case.id}").data.decode()
    assert "Referred to a service" in page and "Referred to legal aid." in page
    assert "Transferred by amina to juma" in page and "Speaks Swahili, prefers evenings." in page
    raw = stored_entries(pipeline.svc, case.id, "event")
    assert raw and not any("Speaks Swahili" in item for item in raw), "timeline entries are encrypted"


def test_earlier_cases_are_linked_by_keyed_hash_never_the_number(pipeline: Pipeline) -> None:
    """A person's closed case older than the reopen window is listed on their new case."""
    old = open_case(pipeline, "+254711000601", "en")
    pipeline.svc.cases.update(old, "closed", status="closed", outcome="resolved", closed_at=time.time() - 7200)
    new = open_case(pipeline, "+254711000601", "en")
    assert [c.id for c in pipeline.svc.cases.earlier_cases(new)] == [old.id]
    boss = console(pipeline, "boss", role="supervisor")
    page = boss.client.get(f"/staff/cases/{new.id}").data.decode()
    live = boss.client.get(f"/staff/cases/{new.id}/live").data.decode()
    assert f'/staff/cases/{old.id}"' in page
    assert "711000601" not in page and "711000601" not in live
    person = new.person
    assert {c.id for c in pipeline.svc.cases.erase_for_person(person)} == {old.id, new.id}, "erased on DELETE"
    assert pipeline.svc.cases.current_for(person) is None and pipeline.svc.cases.earlier_cases(new) == []


# --- reply tools ---------------------------------------------------------------------------------
def test_canned_replies_are_translated_in_every_language(pipeline: Pipeline) -> None:
    """Every canned reply has a translation with the same placeholders in each of the ten languages."""
    for code in pipeline.svc.registry.codes:
        with (ROOT / "locales" / code / "LC_MESSAGES" / "canned.po").open("rb") as handle:
            catalog = read_po(handle)
        for key, english in CANNED.items():
            message = catalog.get(english, context=key)
            assert message is not None, (code, key)
            if code != "en":
                assert message.string and message.string != english, (code, key)
                assert placeholders(str(message.string)) == placeholders(english), (code, key)


def test_the_case_page_offers_canned_replies_in_the_persons_language_with_the_english(pipeline: Pipeline) -> None:
    """A Swahili case's greeting button carries the Swahili text and the English beside it."""
    case = open_case(pipeline, "+254711000701", "sw")
    amina = console(pipeline, "amina")
    amina.post(f"/staff/cases/{case.id}/claim")
    page = amina.client.get(f"/staff/cases/{case.id}").data.decode()
    assert 'data-text="Habari, mimi ni wa timu ya huduma ya msaada.' in page
    assert 'data-english="Hello, I am from the help line team.' in page


def test_a_resource_goes_to_the_person_in_their_language_by_the_bots_renderer(pipeline: Pipeline) -> None:
    """An Arabic speaker gets the Arabic header and labels, not an English 'Name: phone' line."""
    case = open_case(pipeline, "+254711000801", "ar")
    amina = console(pipeline, "amina")
    amina.post(f"/staff/cases/{case.id}/claim")
    found = amina.client.post(f"/staff/cases/{case.id}/resources",
                              data={"csrf_token": amina.csrf, "query": "lawyer Mombasa"}, headers=JSON).get_json()
    resource = re.search(r'name="resource" value="([^"]+)"', found["html"])
    assert resource and "Coast Legal Aid Clinic" in found["html"], found
    sent = amina.client.post(f"/staff/cases/{case.id}/send-resource",
                             data={"csrf_token": amina.csrf, "resource": resource.group(1)}, headers=JSON)
    assert sent.get_json() == {"ok": True, "redirect": None}
    pipeline.run_jobs()
    body = pipeline.outbound.sent[-1][2]
    assert body.startswith(pipeline.render("resources_header", "ar"))
    assert pipeline.render("category_legal", "ar") in body and "Coast Legal Aid Clinic" in body
    assert pipeline.render("resources_last", "ar") not in body, "no bot menu footer while staff own the chat"


# --- the API, the command, the catalogs -------------------------------------------------------------
def test_the_api_lists_open_cases_newest_last_and_cases_since_a_time(pipeline: Pipeline) -> None:
    """GET /staff/api/escalations as DESIGN.md says: open cases newest last; ?since; ?limit."""
    older = open_case(pipeline, "+254711000901", "en", "normal", age=600)
    newer = open_case(pipeline, "+254711000902", "en", "emergency", age=60)
    closed = open_case(pipeline, "+254711000903", "en", "urgent", age=30)
    pipeline.svc.cases.update(closed, "closed", status="closed", outcome="resolved")
    client: FlaskClient = create_app(pipeline.svc.settings, services=pipeline.svc).test_client()
    auth = {"Authorization": "Bearer test-staff-api-token"}
    assert [i["id"] for i in client.get("/staff/api/escalations", headers=auth).get_json()] == [older.id, newer.id]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 300))
    listed = client.get(f"/staff/api/escalations?since={since}", headers=auth).get_json()
    assert [i["id"] for i in listed] == [newer.id, closed.id]
    assert [i["id"] for i in client.get(f"/staff/api/escalations?since={since}&limit=1", headers=auth).get_json()] \
        == [newer.id]
    assert client.get("/staff/api/escalations?since=yesterday", headers=auth).status_code == 400


def test_staff_user_command_sets_the_languages_spoken(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lantern staff-user create NAME --languages sw,ar` and `lantern staff-user languages NAME en`."""
    monkeypatch.setenv("REDIS_URL", pipeline.svc.settings.redis_url)
    monkeypatch.setenv("DATABASE_URL", pipeline.svc.settings.database_url)
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    assert staff_user_command(["create", "wanjiru", "--languages", "sw,AR"]) == 0
    accounts = Accounts(pipeline.svc.db, pipeline.svc.redis, pipeline.svc.keys)
    assert accounts.get("wanjiru") == StaffUser("wanjiru", "staff", ("sw", "ar"))
    assert staff_user_command(["languages", "wanjiru", "en"]) == 0
    assert accounts.get("wanjiru") == StaffUser("wanjiru", "staff", ("en",))
    assert staff_user_command(["languages", "wanjiru", "english!"]) == 1


def test_the_console_is_translated_into_all_ten_languages() -> None:
    """Every console language has a catalog with every message translated and the same placeholders."""
    with (TRANSLATIONS_DIR / "console.pot").open("rb") as handle:
        template = read_po(handle)
    ids = {m.id for m in template if m.id}
    assert set(CONSOLE_LANGUAGES) == {"en", "es", "fr", "pt", "sw", "hi", "ne", "bn", "tl", "ar"}
    for code in CONSOLE_LANGUAGES:
        if code == "en":
            continue
        with (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
        missing = sorted(str(i) for i in ids - set(translated))
        assert not missing, (code, missing[:5])
        for message_id, text in translated.items():
            if isinstance(message_id, str):
                found = set(re.findall(r"%\((\w+)\)s|\{(\w+)\}", message_id))
                assert set(re.findall(r"%\((\w+)\)s|\{(\w+)\}", str(text))) == found, (code, message_id)
