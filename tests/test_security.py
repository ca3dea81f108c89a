"""Regression tests for the security review (issue 14): one test per finding, each failing without its fix.

Fast: the real pipeline, app, Redis, Rasa's own tracker-store classes and twilio's validator;
fakes only for the Rasa server and for sending through Twilio. docs/security.md maps findings to tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.identity import Vault
from bot.core.settings import Settings, SettingsError
from bot.dialogue.tracker_store import EncryptedTrackerStore, LanternLockStore
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import notify_person, staff_reply
from bot.tools.key_rotation import rotate_all
from tests.conftest import ROOT, Pipeline, StaffBrowser

PIN = (-4.043512, 39.668234)


def choose_english(p: Pipeline, sender: str = "+254711000001") -> None:
    """Get a person past the language menu, in English."""
    p.text("hi", sender)
    p.text("1", sender)


def tracker_with_two_sessions(person: str, start: float) -> DialogueStateTracker:
    """A conversation with an old session and a current one that shared a pin."""
    return DialogueStateTracker.from_events(person, [
        ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
        UserUttered("an old secret about my employer", timestamp=start + 1),
        ActionExecuted("action_session_start", timestamp=start + 2), SessionStarted(timestamp=start + 2),
        ActionExecuted("action_listen", timestamp=start + 2),
        UserUttered("my boss took my passport", timestamp=start + 3,
                    metadata={"language": "en", "latitude": PIN[0], "longitude": PIN[1]}),
    ])


def store_for(p: Pipeline, **overrides: object) -> EncryptedTrackerStore:
    """The encrypted tracker store as Rasa builds it, on the fast tests' Redis."""
    from dataclasses import replace

    return EncryptedTrackerStore(settings=replace(p.svc.settings, **overrides), redis=p.redis)


# --- 1. Rasa's tracker: encrypted at rest, current session only, rounded coordinates ---------

def test_rasa_tracker_is_encrypted_holds_only_the_current_session_and_no_exact_pin(pipeline: Pipeline) -> None:
    person = pipeline.person()
    store = store_for(pipeline)
    asyncio.run(store.save(tracker_with_two_sessions(person, time.time())))
    raw = pipeline.redis.get(pipeline.svc.keys.rasa_tracker(person))
    assert raw and "passport" not in raw and "secret" not in raw and "4.0435" not in raw
    stored = json.loads(pipeline.svc.vault.decrypt(raw))
    texts = [event.get("text") for event in stored["events"] if event["event"] == "user"]
    assert texts == ["my boss took my passport"], "only the current session is kept"
    assert stored["events"][-1]["metadata"]["latitude"] == -4.04
    assert 0 < pipeline.redis.ttl(pipeline.svc.keys.rasa_tracker(person)) <= pipeline.svc.settings.retention_seconds
    loaded = asyncio.run(store.retrieve(person))
    assert loaded is not None and loaded.latest_message.text == "my boss took my passport"


def test_with_redis_down_rasa_keeps_no_clear_tracker_in_memory_and_logs_no_message_text(pipeline: Pipeline) -> None:
    """Redis unreachable: the save is dropped (Rasa's fail-safe store would otherwise keep the tracker
    unencrypted in memory for good), and Rasa's own structured logs carry no message text."""
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.utils.log_utils import _anonymizer

    from bot.core.store import connect
    from tests.conftest import free_port

    down = EncryptedTrackerStore(settings=pipeline.svc.settings, redis=connect(f"redis://127.0.0.1:{free_port()}/0"))
    fail_safe = FailSafeTrackerStore(down)
    person = pipeline.person()
    asyncio.run(fail_safe.save(tracker_with_two_sessions(person, time.time())))
    assert fail_safe._fallback_tracker_store is None, "Rasa never fell back to its in-memory store"
    logged = _anonymizer(None, "error", {"event": "rest.message.received.timeout", "text": "my boss took my passport",
                                         "response_text": "Call the hotline", "user_text": "help"})
    assert logged == {"event": "rest.message.received.timeout", "text": "[redacted]", "response_text": "[redacted]",
                      "user_text": "[redacted]"}, "every structured log line of Rasa's passes this hook"


def test_the_tracker_store_takes_its_prefix_and_redis_from_settings_not_endpoints_yml(
    monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline
) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in {**pipeline.svc.settings.as_env(), "RASA_KEY_PREFIX": "elsewhere",
                        "REDIS_URL": "rediss://:s3cret@127.0.0.1:6390/5", "NLG_URL": "http://127.0.0.1:1/nlg",
                        "ACTIONS_URL": "http://127.0.0.1:1", "TESTING": "false",
                        "PUBLIC_URL": "http://127.0.0.1:5000"}.items():
        monkeypatch.setenv(name, value)
    tracker_store = TrackerStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"))
    lock_store = LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))
    assert isinstance(tracker_store, EncryptedTrackerStore) and isinstance(lock_store, LanternLockStore)
    assert tracker_store.key_prefix == "elsewhere:tracker:" and lock_store.key_prefix == "elsewhere:lock:"
    for client in (tracker_store.red, lock_store.red):
        pool = client.connection_pool
        assert pool.connection_kwargs["password"] == "s3cret" and pool.connection_kwargs["db"] == 5
        assert pool.connection_class.__name__ == "SSLConnection"


def test_endpoints_yml_may_not_set_what_settings_own() -> None:
    from bot.dialogue.tracker_store import StoreConfigurationError

    with pytest.raises(StoreConfigurationError, match="REDIS_URL"):
        EncryptedTrackerStore(host="127.0.0.1", key_prefix="lantern", settings=Settings())


def test_the_privacy_audit_reads_trackers_too(pipeline: Pipeline) -> None:
    from bot.tools.privacy_audit import secrets_in_redis

    pipeline.redis.set("lantern:tracker:abc", json.dumps({"events": [{"text": "my passport"}]}), ex=60)
    assert secrets_in_redis(pipeline.redis, "lantern:", "+254700000000", ["passport"]) == [
        "clear text 'passport' in lantern:tracker:abc"]


def test_a_shared_pin_is_kept_rounded_for_more_results(pipeline: Pipeline) -> None:
    from bot.resources.lookup import lookup

    pipeline.svc.desk.refresh()
    lookup(pipeline.svc.desk, pipeline.person(), "", {"latitude": PIN[0], "longitude": PIN[1]}, more=False)
    saved = json.loads(pipeline.redis.hget(pipeline.svc.keys.resource_query(pipeline.person()), "query"))
    assert (saved["latitude"], saved["longitude"]) == (-4.04, 39.67)


# --- 2. DELETE: every case, transcript, note and tracker; no scan; no resurrection ---------------

def test_delete_erases_every_case_and_tracker_without_scanning_the_keyspace(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.handoff.rules import close_case

    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    first = pipeline.case()
    assert first is not None
    pipeline.svc.cases.add_note(first, "amina", "She works at the blue house near the market.")
    close_case(pipeline.svc, first, "amina", "referred")
    long_ago = pipeline.clock() - pipeline.svc.settings.handoff_reopen_seconds - 60
    pipeline.svc.cases.update(first, "closed", closed_at=long_ago)  # too long ago to reopen
    pipeline.text("he locked me in again and took my phone")
    second = pipeline.case()
    assert second is not None and second.id != first.id and second.active
    person = pipeline.person()
    pipeline.redis.set(pipeline.svc.keys.rasa_tracker(person), "encrypted tracker", ex=600)

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("DELETE must not scan the keyspace")

    for name in ("scan_iter", "scan", "keys"):
        monkeypatch.setattr(pipeline.redis, name, no_scan)
    assert pipeline.text("delete") == [pipeline.render("delete_confirm")]
    monkeypatch.undo()
    assert [key for key in pipeline.redis.scan_iter("*") if person in key] == []
    for case_id in (first.id, second.id):
        erased = pipeline.svc.cases.get(case_id)
        assert erased is not None and erased.status == "closed" and erased.contact == "" and erased.person == ""
        assert pipeline.svc.cases.transcript(case_id) == []
        assert [note["author"] for note in pipeline.svc.cases.notes(case_id)] == ["system"]
    assert pipeline.svc.cases.queue() == []
    pipeline.svc.cases.add_note(pipeline.svc.cases.get(first.id), "amina", "Checked.")  # type: ignore[arg-type]
    assert pipeline.svc.cases.current_for("") is None and pipeline.svc.cases.erase_for_person("") == []


def test_an_in_flight_rasa_save_cannot_bring_back_an_erased_tracker(pipeline: Pipeline) -> None:
    person = pipeline.person()
    store = store_for(pipeline)
    in_flight = tracker_with_two_sessions(person, time.time() - 5)
    pipeline.svc.people.erase(person)
    asyncio.run(store.save(in_flight))
    assert not pipeline.redis.exists(pipeline.svc.keys.rasa_tracker(person))
    time.sleep(0.01)
    asyncio.run(store.save(tracker_with_two_sessions(person, time.time())))
    assert pipeline.redis.exists(pipeline.svc.keys.rasa_tracker(person)), "a new conversation is saved"


def test_an_in_flight_rasa_save_cannot_bring_back_a_tracker_after_the_exit_word(pipeline: Pipeline) -> None:
    person = pipeline.person()
    store = store_for(pipeline)
    choose_english(pipeline)
    in_flight = tracker_with_two_sessions(person, time.time() - 5)
    pipeline.text("exit")
    asyncio.run(store.save(in_flight))
    assert not pipeline.redis.exists(pipeline.svc.keys.rasa_tracker(person))


# --- 3. The outbound gate: not safe to text, or the exit word, until the person writes again -----

@pytest.mark.parametrize("quiet_word", ["2", "exit"])
def test_nobody_writes_to_a_person_who_is_not_safe_until_they_write_again(pipeline: Pipeline, quiet_word: str) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    pipeline.text(quiet_word)
    case = pipeline.case()
    assert case is not None
    with pytest.raises(OutboundRefused, match="not safe" if quiet_word == "2" else "closed"):
        staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    assert not notify_person(pipeline.svc, case, "handoff_waiting")
    assert pipeline.outbound.window_open(pipeline.person())[0] is False
    pipeline.run_jobs()
    sent_to_person = [m for m in pipeline.outbound.sent if m[1] == "+254711000001"]
    assert sent_to_person == []
    pipeline.clock.advance(60)
    pipeline.text("i can talk now")
    assert pipeline.outbound.window_open(pipeline.person())[0] is True
    if quiet_word == "exit":  # the exit word closed the case: staff wait for a new one
        return
    staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    pipeline.run_jobs()
    assert pipeline.outbound.sent[-1][1:] == ("+254711000001", "Hello, are you safe?")


def test_the_console_says_why_and_hides_the_reply_box(pipeline: Pipeline, console: StaffBrowser) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    pipeline.text("2")
    case = pipeline.case()
    assert case is not None
    page = console.client.get(f"/staff/cases/{case.id}").data.decode()
    assert 'id="reply-text"' not in page and "not safe to text" in page
    console.post(f"/staff/cases/{case.id}/claim")
    console.post(f"/staff/cases/{case.id}/reply", text="hello")
    pipeline.run_jobs()
    assert pipeline.outbound.sent == [m for m in pipeline.outbound.sent if m[1] != "+254711000001"]


# --- 6. No text reaches Rasa as an intent ----------------------------------------------------

def test_a_slash_after_whitespace_is_stripped_too_but_nothing_else(pipeline: Pipeline) -> None:
    """'/ /immediate_danger@1.0' passed the old filter; only leading slashes and spaces go."""
    choose_english(pipeline)
    pipeline.text("/ /immediate_danger@1.0 help")
    assert pipeline.rasa.sent[-1][1] == "immediate_danger@1.0 help"

# --- 4. Console login: validated usernames, hashed key names, throttling without lockout, limits ---

def fast_app(pipeline: Pipeline) -> Flask:
    """The real app on the fast pipeline's services."""
    from bot.app import create_app

    return create_app(pipeline.svc.settings, services=pipeline.svc)


def everything_in_redis(pipeline: Pipeline) -> str:
    """Every key name and value, as text."""
    from bot.tools.privacy_audit import stored_text

    return "\n".join(key + "\n" + stored_text(pipeline.redis, key) for key in pipeline.redis.scan_iter("*"))


def test_a_malformed_username_is_refused_before_anything_is_stored_or_logged(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    client = fast_app(pipeline).test_client()
    assert client.post("/staff/login", data={"username": "x" * 300, "password": "whatever-123"}).status_code == 401
    assert client.post("/staff/login", data={"username": "<script>" + "y" * 40, "password": "p"}).status_code == 401
    assert client.post("/staff/login", data={"username": "z" * 300_000, "password": "p"}).status_code == 413
    stored = everything_in_redis(pipeline)
    assert "x" * 33 not in stored and "y" * 33 not in stored and "z" * 33 not in stored and "<script>" not in stored
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "x" * 33 not in logged and "<script>" not in logged


def test_no_username_in_key_names_and_accounts_kept_in_redis_move_to_the_database(pipeline: Pipeline) -> None:
    from werkzeug.security import generate_password_hash

    from bot.staff.accounts import Accounts, username_id

    keys = pipeline.svc.keys
    accounts = Accounts(pipeline.svc.db, pipeline.redis, keys)
    accounts.create("amina", "a-long-enough-password", "staff")
    pipeline.redis.hset(keys.legacy_staff_user("zawadi"), mapping={  # an account from two releases ago
        "password": generate_password_hash("an-older-password", method="scrypt"), "role": "staff"})
    pipeline.redis.hset(keys.staff_user(username_id("baraka")), mapping={  # from the last release
        "password": generate_password_hash("the-last-password", method="scrypt"), "role": "supervisor",
        "languages": "sw,en", "disabled": "0"})
    assert accounts.authenticate("zawadi", "an-older-password") is not None
    baraka = accounts.get("baraka")
    assert baraka is not None and baraka.supervisor and baraka.languages == ("sw", "en")
    client = fast_app(pipeline).test_client()
    client.post("/staff/login", data={"username": "amina", "password": "wrong-password-123"})
    assert [key for key in pipeline.redis.scan_iter("*") if "amina" in key or "zawadi" in key] == []
    assert not pipeline.redis.exists(keys.staff_user(username_id("baraka")), keys.legacy_staff_user("zawadi"))
    pipeline.redis.flushdb()  # Redis lost: the accounts are in the database
    assert accounts.usernames() == ["amina", "baraka", "zawadi"]
    assert accounts.authenticate("baraka", "the-last-password") is not None


def test_passwords_are_hashed_with_scrypt_n_2_17_and_older_hashes_still_verify_and_upgrade(pipeline: Pipeline) -> None:
    from werkzeug.security import generate_password_hash

    from bot.staff.accounts import Accounts

    keys = pipeline.svc.keys
    accounts = Accounts(pipeline.svc.db, pipeline.redis, keys)
    accounts.create("amina", "a-long-enough-password", "staff")
    assert str(accounts._row("amina")["password_hash"]).startswith("scrypt:131072:8:1$")  # type: ignore[index]
    accounts.create("zawadi", "an-older-password", "staff")
    old = generate_password_hash("an-older-password", method="scrypt")
    assert old.startswith("scrypt:32768:8:1$")
    accounts._set("zawadi", password_hash=old)
    assert accounts.authenticate("zawadi", "an-older-password") is not None
    assert str(accounts._row("zawadi")["password_hash"]).startswith("scrypt:131072:8:1$")  # type: ignore[index]


def test_wrong_passwords_from_anywhere_never_lock_a_staff_member_out(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.staff import auth
    from bot.staff.accounts import Accounts

    delays: list[float] = []
    monkeypatch.setattr(auth, "pause", delays.append)
    Accounts(pipeline.svc.db, pipeline.redis, pipeline.svc.keys).create("amina", "a-long-enough-password", "staff")
    client = fast_app(pipeline).test_client()
    for attempt in range(5):
        response = client.post("/staff/login", data={"username": "amina", "password": "wrong-password-123"},
                               environ_base={"REMOTE_ADDR": f"203.0.113.{attempt}"})
        assert response.status_code == 401
    assert delays == [0.0, 0.0, 0.0, 0.25, 0.5], "each attempt on the account is slower"
    throttle = auth.LoginThrottle(pipeline.redis, pipeline.svc.keys)
    for _ in range(20):
        throttle.record_failure("elsewhere", "amina", time.time())
    assert throttle.account_delay("amina") == auth.MAX_ACCOUNT_DELAY_SECONDS, "but never longer than a moment"
    right = client.post("/staff/login", data={"username": "amina", "password": "a-long-enough-password"},
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert right.status_code == 302, "the right password still works"


def test_an_address_that_keeps_failing_must_back_off_and_writes_no_more_entries(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.staff import auth
    from bot.staff.audit import recent_audit

    client = fast_app(pipeline).test_client()
    for _ in range(auth.ADDRESS_FREE_FAILURES):
        assert client.post("/staff/login", data={"username": "n", "password": "p"}).status_code == 401
    entries = len(recent_audit(pipeline.svc))
    throttled = client.post("/staff/login", data={"username": "n", "password": "p"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert len(recent_audit(pipeline.svc)) == entries
    other = client.post("/staff/login", data={"username": "n", "password": "p"},
                        environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert other.status_code == 401, "other addresses are not held back"


def test_audit_entries_are_bounded(pipeline: Pipeline) -> None:
    from bot.staff.audit import audit, recent_audit

    audit(pipeline.svc, "s" * 5000, "a" * 5000, "c" * 5000, "d" * 300_000)
    [entry] = recent_audit(pipeline.svc)
    assert sum(len(value) for value in entry.values()) < 400


@pytest.mark.parametrize("path", ["/webhooks/twilio", "/staff/login", "/nlg?token=test-rasa-token"])
def test_route_body_limits_hold_for_chunked_bodies(pipeline: Pipeline, path: str) -> None:
    import io

    body = b"Body=" + b"x" * (3 * 1024 * 1024)
    response = fast_app(pipeline).test_client().post(
        path, input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_the_language_switch_needs_login_and_csrf_and_stays_on_the_console(
    pipeline: Pipeline, console: StaffBrowser
) -> None:
    assert fast_app(pipeline).test_client().post("/staff/language", data={"language": "es"}).status_code == 401
    assert console.client.post("/staff/language", data={"language": "es"}).status_code == 400
    for outside in ("https://evil.example/staff/", "//evil.example/staff/", "/\\evil.example/staff/",
                    "javascript:alert(1)//staff/", "/staff/../../evil", "/staff/events", "/elsewhere"):
        response = console.post("/staff/language", language="es", next=outside)
        assert response.headers["Location"] == "/staff/", outside  # type: ignore[attr-defined]
    forged_referrer = console.client.post("/staff/language", data={"language": "es", "csrf_token": console.csrf},
                                          headers={"Referer": "https://evil.example/staff/x"})
    assert forged_referrer.headers["Location"] == "/staff/"
    back = console.post("/staff/language", language="en", next="/staff/audit")
    assert back.headers["Location"] == "/staff/audit"  # type: ignore[attr-defined]


def test_a_non_ascii_csrf_token_is_refused_not_a_server_error(console: StaffBrowser) -> None:
    response = console.client.post("/staff/language", data={"language": "es", "csrf_token": "jeton-é-ü"})
    assert response.status_code == 400


# --- 5. Server-side sessions: logout and disabling end them; live updates are not activity -------

def test_logout_ends_a_copied_session(pipeline: Pipeline, console: StaffBrowser) -> None:
    cookie = console.client.get_cookie("lantern_staff")
    assert cookie is not None and len(cookie.value) < 100
    thief = fast_app(pipeline).test_client()
    thief.set_cookie("lantern_staff", cookie.value)
    assert thief.get("/staff/").status_code == 200
    console.post("/staff/logout")
    assert thief.get("/staff/").status_code == 302


def test_disabling_an_account_or_resetting_its_password_ends_its_sessions(
    pipeline: Pipeline, console: StaffBrowser
) -> None:
    from bot.staff.accounts import Accounts

    accounts = Accounts(pipeline.svc.db, pipeline.redis, pipeline.svc.keys)
    accounts.set_disabled("amina", True)
    assert console.client.get("/staff/").status_code == 302
    assert console.login("amina", "a-long-enough-password") == 401
    accounts.set_disabled("amina", False)
    assert console.login("amina", "a-long-enough-password") == 302
    accounts.reset_password("amina", "another-long-password")
    assert console.client.get("/staff/").status_code == 302
    assert console.login("amina", "another-long-password") == 302


def test_live_updates_do_not_keep_an_idle_session_alive(pipeline: Pipeline, console: StaffBrowser) -> None:
    idle = pipeline.svc.settings.staff_session_idle_minutes * 60
    with console.client.session_transaction() as session:
        session["seen_at"] = time.time() - idle + 60
        seen = session["seen_at"]
    assert console.client.get("/staff/queue").status_code == 200
    with console.client.session_transaction() as session:
        assert session["seen_at"] == seen, "a live refresh is not activity"
        session["seen_at"] = time.time() - idle - 1
    assert console.client.get("/staff/queue").status_code == 302


def test_staff_user_command_disables_enables_unlocks_and_resets(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.staff.accounts import Accounts, main
    from bot.staff.auth import LoginThrottle
    from tests.conftest import FAST_REDIS_URL

    monkeypatch.setenv("REDIS_URL", FAST_REDIS_URL)
    monkeypatch.setenv("DATABASE_URL", pipeline.svc.settings.database_url)
    monkeypatch.setenv("STAFF_PASSWORD", "a-long-enough-password")
    accounts = Accounts(pipeline.svc.db, pipeline.redis, pipeline.svc.keys)
    assert main(["create", "zawadi", "--role", "staff"]) == 0
    assert main(["disable", "zawadi"]) == 0 and accounts.get("zawadi").disabled  # type: ignore[union-attr]
    assert main(["enable", "zawadi"]) == 0 and not accounts.get("zawadi").disabled  # type: ignore[union-attr]
    throttle = LoginThrottle(pipeline.redis, pipeline.svc.keys)
    for _ in range(5):
        throttle.record_failure("somewhere", "zawadi", time.time())
    assert throttle.account_delay("zawadi") > 0
    assert main(["unlock", "zawadi"]) == 0 and throttle.account_delay("zawadi") == 0
    monkeypatch.setenv("STAFF_PASSWORD", "a-brand-new-password")
    assert main(["reset-password", "zawadi"]) == 0
    assert accounts.authenticate("zawadi", "a-brand-new-password") is not None
    assert main(["disable", "nobody"]) == 1
    assert "zawadi\tstaff\t\tactive" in (main(["list"]), capsys.readouterr().out)[1]


# --- 6. Action server on loopback, replays, /healthz, bounded transcripts and indexes -------------

def test_the_action_server_is_started_on_loopback_only(tmp_path: Path) -> None:
    from bot.tools.stack import rasa_children

    children = rasa_children({"PATH": "/usr/bin"}, tmp_path / "model.tar.gz", [5005], 5055, "token")
    rasa, actions = children
    assert rasa.argv[rasa.argv.index("-i") + 1] == "127.0.0.1"
    assert actions.env["SANIC_HOST"] == "127.0.0.1", "rasa_sdk listens on SANIC_HOST, 0.0.0.0 by default"


def test_a_replayed_request_is_never_answered_while_anything_is_kept(gateway: Any, pipeline: Pipeline) -> None:
    from urllib.parse import urlencode

    from bot.core.identity import opaque_key

    form = gateway.form("+254711000001", "STOP")
    body = urlencode(form)
    assert gateway.post_raw(body).status_code == 200
    replay = gateway.post_raw(body)
    assert replay.status_code == 200 and b"<Message>" not in replay.data
    seen = pipeline.svc.keys.dedupe(opaque_key(pipeline.svc.settings.sender_hash_key, form["MessageSid"]))
    assert pipeline.redis.ttl(seen) > pipeline.svc.settings.retention_seconds - 60
    with pytest.raises(SettingsError, match="DEDUPE_SECONDS"):
        Settings.from_env({"DEDUPE_SECONDS": str(24 * 3600)})


def test_healthz_tells_anonymous_callers_only_the_status_and_checks_at_most_every_few_seconds(
    pipeline: Pipeline,
) -> None:
    calls: list[int] = []
    states = pipeline.rasa.component_states
    pipeline.rasa.component_states = lambda: calls.append(1) or states()  # type: ignore[method-assign]
    client = fast_app(pipeline).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    detailed = client.get("/healthz", headers={"Authorization": "Bearer test-staff-api-token"}).get_json()
    assert detailed == {"status": "ok", "redis": "up", "rasa": "up", "actions": "up"}
    for _ in range(20):
        client.get("/healthz")
    assert len(calls) == 1, "checks are cached for a few seconds"


def test_case_transcripts_are_trimmed(pipeline: Pipeline) -> None:
    from dataclasses import replace

    from bot.handoff.cases import CaseStore

    cases = CaseStore(pipeline.svc.db, pipeline.redis, pipeline.svc.keys, pipeline.svc.vault, 3600, 7200, max_turns=3)
    case = cases.open(pipeline.person(), "+254711000001", "sms", "en", "urgent", "test", [])
    for number in range(5):
        cases.add_turn(case, "user", f"turn {number}")
    assert [turn["text"] for turn in cases.transcript(case.id)] == ["turn 2", "turn 3", "turn 4"]
    assert replace(pipeline.svc.settings, case_transcript_turns=3).case_transcript_turns == 3


def test_cases_are_deleted_from_the_database_when_their_retention_runs_out(pipeline: Pipeline) -> None:
    """An active case lives RETENTION_SECONDS after its last change, a closed one CLOSED_CASE_RETENTION_SECONDS;
    then the case and everything it owns are deleted (reads never show an expired case)."""
    from bot.handoff.sweeper import sweep_once
    from tests.conftest import stored_entries

    settings, cases = pipeline.svc.settings, pipeline.svc.cases
    closed = cases.open(pipeline.person("+254711000010"), "+254711000010", "sms", "en", "urgent", "test", [])
    cases.update(closed, "closed", status="closed", outcome="resolved")
    active = cases.open(pipeline.person("+254711000011"), "+254711000011", "sms", "en", "urgent", "test", [])
    sweep_once(pipeline.svc)
    assert cases.get(closed.id) is not None and cases.get(active.id) is not None
    assert cases.purge_expired(time.time() + settings.retention_seconds + 60) == 1
    assert cases.get(active.id) is None and stored_entries(pipeline.svc, active.id, "event") == []
    assert cases.purge_expired(time.time() + settings.closed_case_retention_seconds + 60) == 1
    assert cases.get(closed.id) is None and stored_entries(pipeline.svc, closed.id, "event") == []


# --- 7. Key rotation: the derived key stays readable until rotation retired it; atomic; reported --

def test_configuring_encryption_keys_keeps_what_the_derived_key_encrypted_readable(pipeline: Pipeline) -> None:
    from cryptography.fernet import Fernet

    from bot.core.identity import open_vault

    keys, redis = pipeline.svc.keys, pipeline.redis
    before = Vault((), "the-secret").encrypt("+254711000001")
    new_key = Fernet.generate_key().decode()
    assert open_vault((new_key,), "the-secret", redis, keys.retired_keys).decrypt(before) == "+254711000001"
    from bot.handoff.cases import CaseStore

    derived = CaseStore(pipeline.svc.db, redis, keys, Vault((), "the-secret"), 3600, 7200)
    case = derived.open(pipeline.person(), "+254711000001", "sms", "en", "urgent", "test", [])
    report = rotate_all(redis, keys, open_vault((new_key,), "the-secret", redis, keys.retired_keys), pipeline.svc.db)
    assert report.rotated == 2 and report.unreadable == [] and report.retired_derived_key  # number + "opened"
    after = open_vault((new_key,), "the-secret", redis, keys.retired_keys)
    assert after.decrypt(derived.get(case.id).contact) == "+254711000001"  # type: ignore[union-attr]
    assert after.try_decrypt(before) is None, "once everything is rotated the derived key is retired"


def test_rotation_is_atomic_per_record_and_reports_what_it_cannot_read(pipeline: Pipeline) -> None:
    from cryptography.fernet import Fernet

    from bot.core.store import connect
    from bot.handoff.cases import CaseStore
    from tests.conftest import FAST_REDIS_URL

    old_key, new_key, lost_key = (Fernet.generate_key().decode() for _ in range(3))
    db = pipeline.svc.db
    old = CaseStore(db, pipeline.redis, pipeline.svc.keys, Vault((old_key,), "s"), 3600, 7200, max_turns=3)
    case = old.open(pipeline.person(), "+254711000001", "sms", "en", "urgent", "test", [])
    for number in range(3):
        old.add_turn(case, "user", f"turn {number}")
    CaseStore(db, pipeline.redis, pipeline.svc.keys, Vault((lost_key,), "s"), 3600, 7200).add_note(case, "x", "x")
    both = Vault((new_key, old_key), "s")
    meanwhile = CaseStore(db, connect(FAST_REDIS_URL), pipeline.svc.keys, both, 3600, 7200, max_turns=3)

    class AppendDuringRotation(Vault):
        """A vault that lets the gateway append (and trim) a turn while rotation is under way."""

        appended = False

        def rotate(self, token: str) -> str:
            if not self.appended and "turn 0" in (self.try_decrypt(token) or ""):  # mid-transcript
                self.appended = True
                meanwhile.add_turn(case, "user", "turn 3")
            return super().rotate(token)

    rotating = AppendDuringRotation((new_key, old_key), "s")
    report = rotate_all(pipeline.redis, pipeline.svc.keys, rotating, db)
    assert rotating.appended
    readable = CaseStore(db, pipeline.redis, pipeline.svc.keys, Vault((new_key,), "s"), 3600, 7200)
    assert [turn["text"] for turn in readable.transcript(case.id)] == ["turn 1", "turn 2", "turn 3"]
    assert len(report.unreadable) == 2 and all(u.startswith("case_entries.payload[") for u in report.unreadable)
    assert not report.retired_derived_key, "something is unreadable: keep every key"
    assert readable.contact_number(readable.get(case.id)) == "+254711000001"  # type: ignore[arg-type]


# --- 8. Settings from .env by Python; each child only what it needs; locked dependencies --------

def test_dotenv_is_read_by_python_literally_and_make_does_not_include_it(tmp_path: Path) -> None:
    from bot.core.settings import load_dotenv, read_dotenv

    dotenv = tmp_path / ".env"
    dotenv.write_text("# a comment\n\nexport SECRET_KEY='s3cr$t # not a comment'\nTWILIO_AUTH_TOKEN=a$(rm -rf x)b\n"
                      'RASA_TOKEN="quoted"\nLOG_LEVEL=DEBUG\n', encoding="utf-8")
    assert read_dotenv(dotenv) == {"SECRET_KEY": "s3cr$t # not a comment", "TWILIO_AUTH_TOKEN": "a$(rm -rf x)b",
                                   "RASA_TOKEN": "quoted", "LOG_LEVEL": "DEBUG"}
    environ = {"LOG_LEVEL": "WARNING"}
    load_dotenv(environ, dotenv)
    assert environ["LOG_LEVEL"] == "WARNING", "the environment wins"
    assert Settings.from_env(environ).secret_key == "s3cr$t # not a comment"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "include .env" not in makefile and "\nexport\n" not in makefile


def test_each_child_process_gets_only_the_settings_it_needs(tmp_path: Path) -> None:
    from bot.tools.stack import rasa_children, rasa_env

    secrets = {"TWILIO_AUTH_TOKEN": "twilio-secret", "STAFF_API_TOKEN": "api-secret", "AWS_SECRET": "other"}
    base = {**Settings(encryption_keys=("k1",)).as_env(), **secrets, "PATH": "/usr/bin", "HOME": "/root"}
    env = rasa_env(base, "rediss://:pw@10.0.0.5:6380/3", "http://127.0.0.1:5000/nlg", "http://127.0.0.1:5055")
    rasa, actions = rasa_children(env, tmp_path / "model.tar.gz", [5005], 5055, "token")
    for child in (rasa, actions):
        assert not set(secrets) & set(child.env), child.name
        assert child.env["REDIS_URL"] == "rediss://:pw@10.0.0.5:6380/3" and child.env["PATH"] == "/usr/bin"
    assert rasa.env["ENCRYPTION_KEYS"] == "k1" and rasa.env["NLG_URL"].endswith("/nlg")
    assert "ENCRYPTION_KEYS" not in actions.env and "SECRET_KEY" not in actions.env
    Settings.from_env(rasa.env)  # what Rasa's stores need is all there and valid
    Settings.from_env(actions.env)


def test_the_lock_file_pins_every_package_with_hashes() -> None:
    """requirements.lock pins each package with hashes, matches what is installed (what the tests
    ran with) and covers every dependency in pyproject.toml; make venv installs it with --require-hashes."""
    import re
    from importlib.metadata import distributions

    def normal(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pinned: dict[str, tuple[str, int]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==(\S+)", entry)
        if match:
            pinned[normal(match.group(1))] = (match.group(3), entry.count("--hash=sha256:"))
    assert len(pinned) > 150 and all(hashes for _, hashes in pinned.values())
    installed = {normal(d.metadata["Name"]): d.version for d in distributions() if d.metadata["Name"] != "lantern"}
    drift = {name: (version, pinned[name][0]) for name, version in installed.items()
             if name in pinned and pinned[name][0] != version}
    assert drift == {}, "the environment differs from the lock: run make venv (or make lock after testing)"
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lists = re.findall(r"(?:dependencies|dev) = \[(.*?)\]", project, re.S)
    declared = [name for block in lists for name in re.findall(r'"([A-Za-z0-9_.-]+)', block)]
    assert len(declared) > 15 and [name for name in declared if normal(name) not in pinned] == []
    assert "--require-hashes" in (ROOT / "Makefile").read_text(encoding="utf-8")
