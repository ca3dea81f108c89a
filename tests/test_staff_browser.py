"""The staff console driven in headless Chromium, as a person would use it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.services import get_services
from tests.conftest import Stack, TwilioHarness, create_staff, new_number

pytestmark = [pytest.mark.stack, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_staff_sees_a_new_escalation_live_claims_replies_and_closes(
    stack: Stack, twilio: TwilioHarness, tmp_path: Path
) -> None:
    """Log in, watch the queue, see a new case appear without reloading, claim, reply, close."""
    from playwright.sync_api import expect, sync_playwright

    username, password = create_staff(stack)
    sender = new_number()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{stack.gateway_url}/staff/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Cases waiting")
            expect(page.locator("#live")).to_have_class("live on", timeout=10_000)

            twilio.text(sender, "please help they are beating me and i am locked in the room now")
            with stack.app.app_context():
                svc = get_services()
                case = svc.cases.current_for(svc.person_id(sender))
            assert case is not None
            row = page.locator(f"#queue-rows tr[data-case='{case.id}']")
            expect(row).to_be_visible(timeout=10_000)
            row.locator("a").click()

            page.click("#claim")
            expect(page.locator("#case-status")).to_contain_text("claimed")
            expect(page.locator("#transcript")).to_contain_text("they are beating me")
            twilio.text(sender, "i am hiding in the bathroom")
            expect(page.locator("#transcript")).to_contain_text("hiding in the bathroom", timeout=10_000)

            page.fill("#reply-text", "Stay where you are. We are calling the police for you now.")
            page.click("#send-reply")
            expect(page.locator("#transcript")).to_contain_text("We are calling the police")
            assert stack.twilio_api.sent[-1]["Body"] == "Stay where you are. We are calling the police for you now."

            page.select_option("#outcome", "referred")
            page.click("#close-case")
            expect(page.locator("h1")).to_contain_text("Cases waiting")
            page.screenshot(path=str(tmp_path / "console.png"))
        finally:
            browser.close()
