"""Staff console security: authentication, roles, CSRF, throttling, headers, no numbers."""

from __future__ import annotations

import pytest
from redis import Redis

from bot.core.services import get_services
from bot.staff.accounts import AccountError, Accounts
from tests.conftest import Stack, StaffBrowser, TwilioHarness, create_staff, new_number

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("path", ["/staff/", "/staff/queue", "/staff/audit", "/staff/cases/abc123"])
def test_pages_need_login(stack: Stack, path: str) -> None:
    """Unauthenticated visitors are sent to the login page."""
    response = stack.app.test_client().get(path)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/staff/cases/abc/claim", "/staff/cases/abc/reply", "/staff/cases/abc/close"])
def test_actions_need_login(stack: Stack, path: str) -> None:
    """Unauthenticated POSTs are refused."""
    assert stack.app.test_client().post(path).status_code == 401


def test_api_needs_the_bearer_token(stack: Stack) -> None:
    """The machine API refuses a missing or wrong token."""
    client = stack.app.test_client()
    assert client.get("/staff/api/escalations").status_code == 401
    assert client.get("/staff/api/escalations", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/staff/api/escalations", headers={"Authorization": "Bearer test-staff-api-token"})
    assert ok.status_code == 200 and isinstance(ok.get_json(), list)


def test_api_fields_never_include_a_phone_number(stack: Stack, twilio: TwilioHarness) -> None:
    """Only id, channel, language, priority, status, reason, created_at."""
    sender = new_number()
    twilio.text(sender, "my boss hits me and took my passport")
    items = stack.app.test_client().get(
        "/staff/api/escalations?status=all", headers={"Authorization": "Bearer test-staff-api-token"}).get_json()
    assert items
    for item in items:
        assert set(item) == {"id", "channel", "language", "priority", "status", "reason", "created_at"}
    assert sender[4:] not in str(items)


def test_csrf_is_enforced(stack: Stack, staff: StaffBrowser, twilio: TwilioHarness) -> None:
    """A state-changing request without the session's CSRF token is refused."""
    twilio.text(new_number(), "they locked me in the room and took my documents")
    case_id = stack.app.test_client().get(
        "/staff/api/escalations", headers={"Authorization": "Bearer test-staff-api-token"}).get_json()[0]["id"]
    assert staff.client.post(f"/staff/cases/{case_id}/claim").status_code == 400
    assert staff.client.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": "forged"}).status_code == 400
    assert staff.post(f"/staff/cases/{case_id}/claim").status_code == 302  # type: ignore[attr-defined]


def test_wrong_role_is_refused(staff: StaffBrowser) -> None:
    """Staff cannot read the supervisors' audit log."""
    assert staff.client.get("/staff/audit").status_code == 403


def test_wrong_passwords_slow_an_account_down_but_never_lock_it(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong passwords from elsewhere slow attempts on an account; the right one still logs in."""
    from bot.staff import auth

    monkeypatch.setattr(auth, "pause", lambda seconds: None)
    username, password = create_staff(stack)
    browser = StaffBrowser(stack.app.test_client())
    for attempt in range(5):
        response = browser.client.post("/staff/login", data={"username": username, "password": "wrong-password-123"},
                                       environ_base={"REMOTE_ADDR": f"192.0.2.{attempt}"})
        assert response.status_code == 401
    assert browser.login(username, password) == 302


def test_accounts_need_strong_passwords_and_have_no_defaults(stack: Stack, redis_db: Redis) -> None:
    """Weak passwords and unknown roles are refused; passwords are stored as scrypt hashes."""
    with stack.app.app_context():
        svc = get_services()
        accounts = Accounts(svc.db, svc.redis, svc.keys)
        with pytest.raises(AccountError):
            accounts.create("shorty", "short", "staff")
        with pytest.raises(AccountError):
            accounts.create("roley", "long-enough-password", "admin")
        assert accounts.authenticate("admin", "admin") is None
        username, password = create_staff(stack)
        stored = str(accounts._row(username)["password_hash"])  # type: ignore[index]
        assert stored.startswith("scrypt:131072:8:1$") and password not in stored


def test_security_headers_and_cookies(stack: Stack) -> None:
    """CSP with frame-ancestors, no-store, HSTS behind HTTPS, HttpOnly SameSite cookie."""
    client = stack.app.test_client()
    username, password = create_staff(stack)
    response = client.post("/staff/login", data={"username": username, "password": password})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/staff/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["X-Frame-Options"] == "DENY"


def test_idle_session_expires(stack: Stack, staff: StaffBrowser) -> None:
    """A session idle longer than STAFF_SESSION_IDLE_MINUTES must log in again."""
    with staff.client.session_transaction() as session:
        session["seen_at"] = session["seen_at"] - 31 * 60
    assert staff.client.get("/staff/").status_code == 302


def test_console_is_translated(stack: Stack, staff: StaffBrowser) -> None:
    """The console's own interface is available in Spanish."""
    staff.post("/staff/language", language="es")
    assert "Casos en espera" in staff.client.get("/staff/").data.decode()
