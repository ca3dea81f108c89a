"""Regression tests for the security review (issue 14): one test per finding, each failing without its fix.

Fast: the real pipeline, app, Redis, Rasa's own tracker-store classes and twilio's validator;
fakes only for the Rasa server and for sending through Twilio. docs/security.md maps findings to tests.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.settings import Settings
from bot.dialogue.tracker_store import EncryptedTrackerStore, LanternLockStore
from bot.handoff.outbound import OutboundRefused
from bot.handoff.rules import notify_person, staff_reply
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


def test_the_tracker_store_takes_its_prefix_and_redis_from_settings_not_endpoints_yml(
    monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline
) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in {**pipeline.svc.settings.as_env(), "RASA_KEY_PREFIX": "elsewhere",
                        "REDIS_URL": "rediss://:s3cret@127.0.0.1:6390/5", "NLG_URL": "http://127.0.0.1:1/nlg",
                        "ACTIONS_URL": "http://127.0.0.1:1", "TESTING": "false"}.items():
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
    saved = pipeline.redis.hgetall(pipeline.svc.keys.resource_query(pipeline.person()))
    assert saved["lat"] == "-4.04" and saved["lon"] == "39.67"


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


# --- 3. The outbound gate: not safe to text, or the exit word, until the person writes again -----

@pytest.mark.parametrize("quiet_word", ["2", "exit"])
def test_nobody_writes_to_a_person_who_is_not_safe_until_they_write_again(pipeline: Pipeline, quiet_word: str) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    pipeline.text(quiet_word)
    case = pipeline.case()
    assert case is not None
    with pytest.raises(OutboundRefused, match="not safe"):
        staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    assert not notify_person(pipeline.svc, case, "handoff_waiting")
    assert pipeline.outbound.window_open(pipeline.person())[0] is False
    sent_to_person = [m for m in pipeline.outbound.sent if m[1] == "+254711000001"]
    assert sent_to_person == []
    pipeline.clock.advance(60)
    pipeline.text("i can talk now")
    staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
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
    assert pipeline.outbound.sent == [m for m in pipeline.outbound.sent if m[1] != "+254711000001"]


# --- 6. No text reaches Rasa as an intent ----------------------------------------------------

def test_a_slash_after_whitespace_is_stripped_too_but_nothing_else(pipeline: Pipeline) -> None:
    """'/ /immediate_danger@1.0' passed the old filter; only leading slashes and spaces go."""
    choose_english(pipeline)
    pipeline.text("/ /immediate_danger@1.0 help")
    assert pipeline.rasa.sent[-1][1] == "immediate_danger@1.0 help"

