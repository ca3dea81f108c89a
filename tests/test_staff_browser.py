"""The staff console in headless Chromium, as counsellors on a busy shift would use it.

Desktop (1280 px) and phone (390 px) widths; axe-core (vendored) checks WCAG 2.1 AA on every page.
Screenshots of the last run go to $LANTERN_SCREENSHOTS (default: <temp dir>/lantern-console-screenshots)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.services import Services, get_services
from bot.handoff.cases import Case
from bot.staff.accounts import Accounts
from bot.staff.canned import SOURCE as CANNED
from bot.staff.canned import canned_replies
from tests.conftest import ROOT, Stack, TwilioHarness, new_number, sent_to, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = (ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
PASSWORD = "a-long-enough-password"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Desktop notifications recorded instead of shown; permission starts undecided ("asked once").
NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  constructor(title, options) { window.__notifications.push({ title, body: (options || {}).body }); }
  static get permission() { return localStorage.getItem("test.permission") || "default"; }
  static requestPermission() { localStorage.setItem("test.permission", "granted"); return Promise.resolve("granted"); }
};
"""


@pytest.fixture(scope="module")
def screens() -> Path:
    """The folder for this run's screenshots (emptied first), outside the repository."""
    folder = Path(os.environ.get("LANTERN_SCREENSHOTS", Path(tempfile.gettempdir()) / "lantern-console-screenshots"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def services(stack: Stack) -> Services:
    """Return the live gateway's services."""
    with stack.app.app_context():
        return get_services()


def clear_cases(svc: Services) -> None:
    """Start from an empty queue (this test run's own database)."""
    from bot.core.database import case_entries, cases

    with svc.db.begin() as connection:
        connection.execute(case_entries.delete())
        connection.execute(cases.delete())


def counsellor(svc: Services, prefix: str, languages: tuple[str, ...], role: str = "staff") -> str:
    """Create a staff account that speaks some languages; return its username."""
    username = f"{prefix}-{os.urandom(3).hex()}"
    Accounts(svc.db, svc.redis, svc.keys).create(username, PASSWORD, role, languages)
    return username


def seed_case(svc: Services, language: str, priority: str, age: float = 0, channel: str = "sms",
              words: str = "", number: str | None = None) -> tuple[Case, str]:
    """Open a case for someone who has just written, as the pipeline would."""
    number = number or new_number()
    person = svc.person_id(number)
    svc.people.update(person, last_inbound=time.time(), language=language)
    case = svc.cases.open(person, number, channel, language, priority, "risk disclosure (screen)", [],
                          time.time() - age)
    if words:
        svc.cases.add_turn(case, "user", words)
    return case, number


def log_in(chromium: Any, stack: Stack, username: str, viewport: dict[str, int]) -> Any:
    """Open a browser window of a size and log a counsellor in."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=viewport, locale="en-GB")
    context.add_init_script(NOTIFICATIONS)
    page = context.new_page()
    page.goto(f"{stack.gateway_url}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Cases waiting")
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
    return page


def assert_accessible(page: Any, what: str) -> None:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) and fail on any serious or critical violation."""
    page.evaluate(AXE)
    results = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
    )
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{what}: " + "; ".join(bad)


def no_sideways_scroll(page: Any) -> None:
    """Nothing on the page is wider than the window."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def row_data(page: Any) -> list[dict[str, str]]:
    """Return the data attributes of every listed case row, in order."""
    return page.eval_on_selector_all("#cases tr[data-case]", "rows => rows.map(r => ({...r.dataset}))")  # type: ignore[no-any-return]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_a_busy_queue_filtered_and_a_new_emergency_arriving(
    stack: Stack, twilio: TwilioHarness, chromium: Any, screens: Path, viewport: dict[str, int]
) -> None:
    """200 cases: the counsellor's own view, mine, unclaimed, a language, pages; an emergency lands on top."""
    from playwright.sync_api import expect

    svc = services(stack)
    clear_cases(svc)
    me = counsellor(svc, "amina", ("sw",))
    other = counsellor(svc, "juma", ("ar",))
    codes = svc.registry.codes
    for i in range(200):
        priority = "emergency" if i % 50 == 7 else "urgent" if i % 4 == 1 else "normal"
        channel = "whatsapp" if i % 3 else "sms"
        case, _ = seed_case(svc, codes[i % len(codes)], priority, age=60 * (200 - i), channel=channel)
        if i % 25 == 3:
            svc.cases.update(case, "claimed", by=me, status="claimed", claimed_by=me)
        elif i % 25 == 4:
            svc.cases.update(case, "claimed", by=other, status="claimed", claimed_by=other)
        if i % 17 == 5:
            svc.cases.update(case, "updated", safe_to_text="no")
    queue = svc.cases.queue()
    assert len(queue) == 200, len(queue)
    mine = [c for c in queue if c.claimed_by == me]
    arabic = [c for c in queue if c.language == "ar"]
    arabic_open = [c for c in arabic if c.status == "open"]
    name = "desktop" if viewport == DESKTOP else "phone"

    page = log_in(chromium, stack, me, viewport)
    try:
        shown = row_data(page)
        assert shown and len(shown) <= 25
        for row in shown:
            assert (row["status"] == "open" and (row["language"] == "sw" or row["priority"] == "emergency")) \
                or row["claimedBy"] == me, row
        assert [r["priority"] for r in shown][:4] == ["emergency"] * 4, "emergencies first"
        expect(page.locator("[data-count=mine]")).to_have_text(str(len(mine)))
        page.keyboard.press("j")
        assert page.evaluate("document.activeElement.textContent") == shown[0]["case"], "one key to the first case"
        no_sideways_scroll(page)
        page.screenshot(path=str(screens / f"queue-{name}.png"))
        assert_accessible(page, f"queue at {name}")

        page.check("input[name=mine]")
        page.wait_for_url("**mine=1**")
        assert {r["claimedBy"] for r in row_data(page)} == {me} and len(row_data(page)) == len(mine)

        page.goto(f"{stack.gateway_url}/staff/?view=all")
        page.locator("details.more-filters summary").click()
        expect(page.locator("option[data-count-key='language:ar']")).to_have_text(f"العربية ({len(arabic)})")
        page.select_option("#filters select[name=language]", "ar")
        page.wait_for_url("**language=ar**")
        page.check("input[name=unclaimed]")
        page.wait_for_url("**unclaimed=1**")
        filtered = row_data(page)
        assert len(filtered) == len(arabic_open)
        assert {(r["language"], r["status"]) for r in filtered} == {("ar", "open")}
        page.screenshot(path=str(screens / f"queue-filtered-{name}.png"), full_page=True)

        page.goto(f"{stack.gateway_url}/staff/?view=all")
        expect(page.locator(".pager")).to_contain_text("Page 1 of 8")
        page.click("a[rel=next]")
        page.wait_for_url("**page=2**")
        expect(page.locator("#queue-summary")).to_contain_text("Showing 26–50 of 200")
        expect(page.locator(".pager")).to_contain_text("Page 2 of 8")

        # A new emergency: banner at the top, the row with the emergencies, sound, notification, title.
        page.goto(f"{stack.gateway_url}/staff/")
        page.click("#ask-notifications")
        expect(page.locator("#ask-notifications")).to_be_hidden()
        page.check("#sound-toggle")
        page.reload()
        expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
        expect(page.locator("#ask-notifications")).to_be_hidden()  # asked once only
        sender = new_number()
        twilio.text(sender, "please help they are beating me and i am locked in the room now")
        case = svc.cases.current_for(svc.person_id(sender))
        assert case is not None and case.priority == "emergency"
        alert = page.locator("#emergency-alert")
        expect(alert).to_contain_text(case.id, timeout=10_000)
        expect(page.locator(f"#cases tr[data-case='{case.id}']")).to_be_visible(timeout=10_000)
        above = [r["priority"] for r in row_data(page)]
        position = [r["case"] for r in row_data(page)].index(case.id)
        assert set(above[:position]) == {"emergency"}, "only older emergencies wait above it"
        assert page.title().startswith("(1) ")
        assert page.evaluate("window.__notifications.map(n => n.body)") == [f"{case.id} · en"]
        page.screenshot(path=str(screens / f"queue-new-emergency-{name}.png"))
        page.keyboard.press("Shift")
        assert not page.title().startswith("("), "the counter clears once seen"
        alert.get_by_role("link").first.click()
        expect(page.locator("h1")).to_contain_text(case.id)
    finally:
        page.context.close()


def test_counsellors_work_cases_in_the_persons_language_and_see_each_other_live(
    stack: Stack, chromium: Any, screens: Path
) -> None:
    """Claim (seen live by a colleague), canned reply in Swahili, resource in Arabic, transfer, close."""
    from playwright.sync_api import expect

    svc = services(stack)
    amina = counsellor(svc, "amina", ("sw", "ar"))
    juma = counsellor(svc, "juma", ("sw",))
    swahili, swahili_number = seed_case(svc, "sw", "urgent", age=300, words="Bosi amechukua pasipoti yangu")
    arabic, arabic_number = seed_case(svc, "ar", "urgent", age=200, words="صاحب العمل أخذ جواز سفري")
    first = log_in(chromium, stack, amina, DESKTOP)
    second = log_in(chromium, stack, juma, PHONE)
    try:
        for page in (first, second):
            page.goto(f"{stack.gateway_url}/staff/cases/{swahili.id}")
            expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
            expect(page.locator("#claim")).to_be_visible()
        assert_accessible(first, "open case at desktop")

        first.keyboard.press("c")  # claim by shortcut
        expect(first.locator("#case-status")).to_contain_text(f"Claimed by {amina}")
        expect(second.locator("#claim")).to_be_hidden(timeout=10_000)
        expect(second.locator("#case-notice")).to_contain_text(f"{amina} claimed this case")
        expect(second.locator("#cannot-send")).to_be_visible()
        second.screenshot(path=str(screens / "case-claimed-by-colleague-390px.png"), full_page=True)

        first.keyboard.press("r")
        first.keyboard.press("Alt+1")
        swahili_greeting = canned_replies(svc, "sw")[0].text
        assert first.input_value("#reply-text") == swahili_greeting
        expect(first.locator("#canned-english")).to_contain_text(CANNED["greeting"])
        first.screenshot(path=str(screens / "case-canned-reply-desktop.png"), full_page=True)
        assert_accessible(first, "claimed case with reply tools at desktop")
        first.keyboard.press("Control+Enter")
        expect(first.locator("#transcript")).to_contain_text(swahili_greeting[:30])
        assert wait_for(lambda: any(m["Body"] == swahili_greeting for m in sent_to(stack, swahili_number, timeout=0)))

        # A resource for the Arabic speaker, rendered in Arabic by the bot's renderer.
        first.goto(f"{stack.gateway_url}/staff/cases/{arabic.id}")
        first.click("#claim")
        first.fill("#resource-query", "lawyer Mombasa")
        first.click("#resources-box button[type=submit]")
        send = first.locator(".send-resource").first
        expect(send).to_contain_text("العربية")
        send.click()
        header = svc.render("resources_header", "ar")
        expect(first.locator("#transcript")).to_contain_text(header)
        assert wait_for(lambda: any(m["Body"].startswith(header) for m in sent_to(stack, arabic_number, timeout=0)))
        first.screenshot(path=str(screens / "case-resource-arabic-desktop.png"), full_page=True)

        # Transfer the Swahili case to the colleague, with a hand-over note; typed text is kept.
        first.goto(f"{stack.gateway_url}/staff/cases/{swahili.id}")
        first.fill("#reply-text", "Nitakupigia simu jioni")
        first.click("#transfer-box summary")
        first.select_option("#transfer-to", juma)
        first.click("#transfer")  # no note yet: the browser asks for it, nothing is sent
        assert svc.cases.get(swahili.id).claimed_by == amina  # type: ignore[union-attr]
        first.fill("#handover-note", "Speaks Swahili; her employer took her passport. Call after 6 pm.")
        first.click("#transfer")
        expect(first.locator("#cannot-send")).to_be_visible(timeout=10_000)
        expect(first.locator(".unsent")).to_contain_text("Nitakupigia simu jioni")
        expect(second.locator("#handover")).to_contain_text("Call after 6 pm", timeout=10_000)
        expect(second.locator("#reply-text")).to_be_visible()
        second.screenshot(path=str(screens / "case-handed-over-390px.png"), full_page=True)
        assert_accessible(second, "handed-over case at 390px")
        no_sideways_scroll(second)

        # The colleague closes with an outcome and a summary; the record is complete.
        second.click("#close-box summary")
        second.select_option("#outcome", "referred")
        second.fill("#summary", "Referred to legal aid in Mombasa.")
        second.click("#close-case")
        expect(second.locator("h1")).to_contain_text("Cases waiting")
        second.goto(f"{stack.gateway_url}/staff/cases/{swahili.id}")
        expect(second.locator("#outcome-box")).to_contain_text("Referred to a service")
        expect(second.locator("#outcome-box")).to_contain_text("Referred to legal aid in Mombasa.")
        timeline = second.locator("#timeline li").all_inner_texts()
        for expected in ("Case opened by the bot", f"Claimed by {amina}", f"Reply sent by {amina}",
                         f"Transferred by {amina} to {juma}", "Call after 6 pm", f"Closed by {juma}: Referred"):
            assert any(expected in entry for entry in timeline), (expected, timeline)
        second.screenshot(path=str(screens / "case-closed-390px.png"), full_page=True)
        assert_accessible(second, "closed case at 390px")
    finally:
        first.context.close()
        second.context.close()


def test_a_reply_is_refused_with_the_reason_when_it_is_not_safe_to_text(
    stack: Stack, twilio: TwilioHarness, chromium: Any, screens: Path
) -> None:
    """The person answers 'not safe': the reply box gives way to the reason; a forced send is refused."""
    from playwright.sync_api import expect

    svc = services(stack)
    amina = counsellor(svc, "amina", ("en",))
    sender = new_number()
    twilio.text(sender, "my boss took my passport and locks the door at night")
    twilio.text(sender, "2")  # not safe to text
    case = svc.cases.current_for(svc.person_id(sender))
    assert case is not None and case.safe_to_text == "no"
    page = log_in(chromium, stack, amina, DESKTOP)
    try:
        page.goto(f"{stack.gateway_url}/staff/cases/{case.id}")
        page.click("#claim")
        expect(page.locator("#case-status")).to_contain_text(f"Claimed by {amina}")
        expect(page.locator("#safety")).to_contain_text("Not safe to text")
        expect(page.locator("#timeline")).to_contain_text("The person said it is not safe to text")
        expect(page.locator("#cannot-send")).to_contain_text("Do not write until they write again")
        expect(page.locator("#reply-text")).to_have_count(0)
        sent_before = len(stack.twilio_api.sent)
        answer = page.evaluate(
            """async (url) => {
                const body = new FormData();
                body.append("csrf_token", document.querySelector("meta[name=csrf-token]").content);
                body.append("text", "Are you safe?");
                const r = await fetch(url, {method: "POST", body, headers: {"X-Requested-With": "lantern-console"}});
                return {status: r.status, json: await r.json()};
            }""",
            f"{stack.gateway_url}/staff/cases/{case.id}/reply",
        )
        assert answer["status"] == 409 and "not safe to text" in answer["json"]["error"]
        assert [m for m in stack.twilio_api.sent[sent_before:] if m["To"] == sender] == []
        page.screenshot(path=str(screens / "case-not-safe-desktop.png"), full_page=True)
        assert_accessible(page, "case not safe to text at desktop")

        twilio.text(sender, "i can talk now")  # they write again: the reply box comes back, live
        expect(page.locator("#reply-text")).to_be_visible(timeout=10_000)
    finally:
        page.context.close()


def seed_report_day(svc: Services, day_start: float) -> None:
    """Record a plausible day of report events (people in three languages, cases, times, outcomes)."""
    record = svc.events.record
    for n in range(14):
        language, channel = ("en", "sms") if n < 6 else ("sw", "whatsapp") if n < 11 else ("ar", "whatsapp")
        person = f"report-person-{n}"
        at = day_start + 3600 * (8 + n % 9)
        record("message", at=at, person=person, channel=channel, language=language, detail="first")
        record("answer", at=at, person=person, channel=channel, language=language,
               detail=("utter_signs_1", "utter_rights", "utter_get_help")[n % 3])
        if n % 4 == 0:
            record("not_understood", at=at, person=person, channel=channel, language=language, detail="nlu")
    for n, priority in enumerate(["emergency", "urgent", "urgent", "normal", "normal", "urgent"]):
        at, case_id = day_start + 3600 * (9 + n), f"seedcase{n:04d}"
        record("escalation", at=at, channel="sms", language="en", detail=f"{priority}|risk disclosure (screen)",
               case_id=case_id)
        record("claimed", at=at + 120, channel="sms", language="en", case_id=case_id, value=60.0 * (n + 1))
        record("first_reply", at=at + 300, channel="sms", language="en", case_id=case_id, value=90.0 * (n + 1))
        record("closed", at=at + 900, channel="sms", language="en", case_id=case_id, value=900.0,
               detail="referred" if n % 2 else "resolved")
    for _ in range(3):
        record("keyword", at=day_start + 3600 * 18, channel="whatsapp", language="sw", detail="stop")


def test_the_reports_page_draws_its_charts_for_supervisors_only(stack: Stack, chromium: Any, screens: Path) -> None:
    """A supervisor sees every chart and table of the day (screenshot); a counsellor is refused."""
    from datetime import datetime, timezone

    from playwright.sync_api import expect

    svc = services(stack)
    now = datetime.now(timezone.utc)
    day_start = datetime(now.year, now.month, now.day, tzinfo=timezone.utc).timestamp()
    seed_report_day(svc, day_start)
    boss = counsellor(svc, "boss", ("en",), role="supervisor")
    page = log_in(chromium, stack, boss, DESKTOP)
    page.click("text=Reports")
    expect(page.locator("h1")).to_have_text("Reports")
    assert page.locator("svg.chart").count() >= 10
    assert page.locator("svg.chart rect").count() > 20, "bars drawn for the seeded day"
    assert page.locator("table.figures").count() >= 10
    assert_accessible(page, "reports")
    page.screenshot(path=str(screens / "reports-desktop.png"), full_page=True)
    page.context.close()
    worker = counsellor(svc, "wanjiru", ("sw",))
    other = log_in(chromium, stack, worker, DESKTOP)
    assert other.locator("text=Reports").count() == 0
    response = other.goto(f"{stack.gateway_url}/staff/reports")
    assert response is not None and response.status == 403
    other.context.close()
