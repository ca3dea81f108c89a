"""Slow work off the webhook: jobs queued not run inline, sent once, retried, recorded when they fail;
one deadline for the webhook; one message per person at a time. Real Redis and a real RQ worker."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from redis.exceptions import ConnectionError as RedisConnectionError
from rq.registry import StartedJobRegistry

from bot.app import create_app
from bot.conversation.pipeline import handle_inbound
from bot.core.deadline import Deadline
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.core.store import Keys
from bot.dialogue.client import RasaClient, RasaUnavailable
from bot.handoff import jobs
from bot.handoff.outbound import Outbound, OutboundFailed, SentMessage
from bot.handoff.rules import notify_person, staff_reply
from tests.conftest import LANTERN_NUMBER, ONCALL_NUMBER, Pipeline, TwilioHarness, replies, run_jobs
from tests.twilio_api import TwilioApiStandIn
from webhooks.base import InboundMessage

PERSON = "+254711000001"
RISK = "they took my passport and dont pay me"


def choose_english(pipeline: Pipeline, sender: str = PERSON) -> None:
    """Pick English from the language menu."""
    pipeline.text("hi", sender)
    pipeline.text("1", sender)


def open_case(pipeline: Pipeline) -> str:
    """Open a case with a risk message, run its jobs, and return its id."""
    choose_english(pipeline)
    pipeline.text(RISK)
    pipeline.run_jobs()
    case = pipeline.case()
    assert case is not None
    return case.id


def alerts(pipeline: Pipeline) -> list[str]:
    """Return the bodies of every alert sent to the on-call phone."""
    return [body for _, number, body in pipeline.outbound.sent if number == ONCALL_NUMBER]


def queued(svc: Services) -> list[str]:
    """Return the ids of the jobs waiting on Lantern's queue."""
    return jobs.job_queue(svc).job_ids


# --- queued, not run inline ----------------------------------------------------------------------
def test_the_webhook_answers_before_the_alert_is_sent_and_the_worker_then_sends_it(
    pipeline: Pipeline, gateway: TwilioHarness
) -> None:
    gateway.text(PERSON, "hi")
    gateway.text(PERSON, "1")
    answer = gateway.text(PERSON, RISK)
    assert pipeline.svc.settings.hotline_number in answer[0]
    assert pipeline.outbound.sent == [] and pipeline.rasa.events == [], "nothing slow ran inside the webhook"
    names = queued(pipeline.svc)
    assert len([n for n in names if ":alert:" in n]) == 1 and len([n for n in names if ":rasa:" in n]) == 1
    assert pipeline.run_jobs() == 2
    case = pipeline.case()
    assert case is not None
    assert alerts(pipeline) == [f"Lantern: new urgent case {case.id}"]
    assert pipeline.rasa.events == [("pause", pipeline.person())]
    assert queued(pipeline.svc) == []


def test_a_queue_that_cannot_be_written_still_leaves_the_person_with_the_numbers(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bool:
        raise RedisConnectionError("the job queue is unreachable")

    monkeypatch.setattr(jobs, "enqueue", broken)
    choose_english(pipeline)
    answer = pipeline.text(RISK)
    assert pipeline.svc.settings.hotline_number in answer[0] and pipeline.case() is not None


def test_the_queue_is_named_behind_the_key_prefix(pipeline: Pipeline) -> None:
    other = dataclasses.replace(pipeline.svc, keys=Keys("other:", "other"))
    assert jobs.queue_name(pipeline.svc) == "lantern:jobs" and jobs.queue_name(other) == "other:jobs"
    pipeline.text("hi")
    pipeline.text("1")
    pipeline.text(RISK)
    assert queued(other) == [] and run_jobs(other) == 0
    assert len(queued(pipeline.svc)) == 2


def test_closing_a_case_queues_resuming_rasa_and_a_late_pause_cannot_undo_it(pipeline: Pipeline) -> None:
    case_id = open_case(pipeline)
    case = pipeline.svc.cases.get(case_id)
    assert case is not None
    jobs.sync_rasa_pause(pipeline.svc, case)  # the same pause again: the same job id, not queued twice
    assert queued(pipeline.svc) == []
    pipeline.svc.cases.update(case, "closed", status="closed", outcome="resolved", closed_at=pipeline.clock())
    jobs.sync_rasa_pause(pipeline.svc, case)
    pipeline.run_jobs()
    with jobs.running_with(pipeline.svc):
        assert jobs.apply_rasa_pause(case_id) == "resumed", "a retried pause reads the case: closed, so resume"
    assert pipeline.rasa.events[-1] == ("resume", pipeline.person())


# --- each alert once ------------------------------------------------------------------------------
def test_an_alert_enqueued_twice_or_run_twice_is_sent_once(pipeline: Pipeline) -> None:
    case_id = open_case(pipeline)
    case = pipeline.svc.cases.get(case_id)
    assert case is not None
    jobs.alert_on_call(pipeline.svc, case, "new")  # a duplicate enqueue is a no-op
    assert queued(pipeline.svc) == []
    name = f"alert:{case_id}:new0:0"
    with jobs.running_with(pipeline.svc):
        assert jobs.send_alert(name, case_id, "new", "urgent", 0) == "already sent"
    assert alerts(pipeline) == [f"Lantern: new urgent case {case_id}"]


def test_a_second_copy_of_a_job_does_not_send_while_the_first_is_sending(pipeline: Pipeline) -> None:
    svc = pipeline.svc
    inner: list[object] = []

    def send() -> None:
        with pytest.raises(jobs.SendInProgress):
            jobs.sent_once(svc, "alert:x:new0:0", lambda: inner.append("twice"))
        inner.append("once")

    assert jobs.sent_once(svc, "alert:x:new0:0", send)
    assert inner == ["once"] and not svc.redis.exists(svc.keys.job_sending("alert:x:new0:0"))
    assert not jobs.sent_once(svc, "alert:x:new0:0", lambda: inner.append("again"))


@pytest.mark.parametrize(
    ("crash", "sends"),
    [
        ("before sending", 1),  # the retry sends it: never lost
        ("after the sent marker", 1),  # the retry finds the marker: not sent twice
        ("between Twilio and the marker", 2),  # at least once: the one window where a duplicate goes out
    ],
)
def test_a_worker_killed_while_an_alert_job_runs_is_retried_and_sends_as_documented(
    pipeline: Pipeline, crash: str, sends: int
) -> None:
    """A worker dies mid-job: RQ's cleanup finds the abandoned job in its started registry and retries it."""
    choose_english(pipeline)
    pipeline.text(RISK)
    case = pipeline.case()
    assert case is not None
    queue = jobs.job_queue(pipeline.svc)
    job_id = next(n for n in queue.job_ids if ":alert:" in n)
    job = queue.fetch_job(job_id)
    assert job is not None
    queue.remove(job_id)
    StartedJobRegistry(queue=queue).add(job, 1)  # started by a worker that is gone
    name, case_id, what, priority, index = job.args
    with jobs.running_with(pipeline.svc):
        if crash == "after the sent marker":
            jobs.send_alert(name, case_id, what, priority, index)
        elif crash == "between Twilio and the marker":
            pipeline.svc.outbound.send_to_staff(ONCALL_NUMBER, f"Lantern: {what} {priority} case {case_id}")
    StartedJobRegistry(queue=queue).cleanup(time.time() + 5)  # as a worker's maintenance does once its lease ran out
    assert job_id in queue.job_ids, "the abandoned job was put back on the queue"
    pipeline.run_jobs()
    assert alerts(pipeline) == [f"Lantern: new urgent case {case.id}"] * sends


def test_an_alert_job_that_fails_after_sending_is_retried_without_sending_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes = []
    sent_once = jobs.sent_once

    def crash_after(svc: Services, name: str, send: object) -> bool:
        done = sent_once(svc, name, send)  # type: ignore[arg-type]
        if not crashes:
            crashes.append(name)
            raise ConnectionError("the worker lost Redis right after sending")
        return done

    monkeypatch.setattr(jobs, "sent_once", crash_after)
    choose_english(pipeline)
    pipeline.text(RISK)
    assert pipeline.run_jobs() == 3, "two jobs, one of them run twice"
    case = pipeline.case()
    assert case is not None and crashes
    assert alerts(pipeline) == [f"Lantern: new urgent case {case.id}"]


# --- messages to the person: sent by a job, retried, failures on the timeline ---------------------------
class FlakyOutbound:
    """Make the pipeline's recording outbound fail its first N Twilio calls."""

    def __init__(self, pipeline: Pipeline, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.send = pipeline.outbound._send

    def __call__(self, channel: str, number: str, body: str) -> SentMessage:
        """Fail like an unreachable Twilio, then send."""
        self.calls += 1
        if self.calls <= self.failures:
            raise OutboundFailed("Twilio refused the message; try again later.")
        return self.send(channel, number, body)


@pytest.mark.parametrize(("failures", "delivered"), [(0, True), (2, True), (99, False)])
def test_a_staff_reply_is_sent_by_a_job_retried_and_a_final_failure_is_on_the_timeline(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    failures: int, delivered: bool,
) -> None:
    case_id = open_case(pipeline)
    case = pipeline.svc.cases.get(case_id)
    assert case is not None
    flaky = FlakyOutbound(pipeline, failures)
    monkeypatch.setattr(pipeline.outbound, "_send", flaky)
    staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    assert [t["text"] for t in pipeline.svc.cases.transcript(case_id)][-1] == "Hello, are you safe?"
    assert [m for m in pipeline.outbound.sent if m[1] == PERSON] == [], "queued, not sent inline"
    with caplog.at_level(logging.INFO):
        ran = pipeline.run_jobs()
    retries = pipeline.svc.settings.job_retries
    assert ran == min(failures, retries) + 1
    to_person = [m[1:] for m in pipeline.outbound.sent if m[1] == PERSON]
    assert to_person == ([(PERSON, "Hello, are you safe?")] if delivered else [])
    events = [e["event"] for e in pipeline.svc.cases.timeline(case_id)]
    assert ("reply_failed" in events) is not delivered
    assert list(pipeline.redis.scan_iter("lantern:job:*:text")) == [], "the waiting text is gone, sent or not"
    assert PERSON not in caplog.text and "are you safe" not in caplog.text


def test_a_reply_refused_at_sending_time_is_not_retried_and_is_on_the_timeline(pipeline: Pipeline) -> None:
    """The person said STOP between the console's check and the job: the gate refuses, once."""
    case_id = open_case(pipeline)
    case = pipeline.svc.cases.get(case_id)
    assert case is not None
    staff_reply(pipeline.svc, case, "amina", "Hello, are you safe?")
    pipeline.svc.people.update(pipeline.person(), opted_out=True)
    assert pipeline.run_jobs() == 1
    assert [m for m in pipeline.outbound.sent if m[1] == PERSON] == []
    failed = [e for e in pipeline.svc.cases.timeline(case_id) if e["event"] == "reply_failed"]
    assert [(e["by"], e["detail"]) for e in failed] == [("amina", "opted_out")]


@pytest.fixture
def real_twilio(pipeline: Pipeline, twilio_api: TwilioApiStandIn) -> Iterator[Services]:
    """The fast pipeline's services with the real outbound: twilio's own Client at the local stand-in."""
    settings = dataclasses.replace(pipeline.svc.settings, twilio_api_base_url=twilio_api.url)
    outbound = Outbound(settings, pipeline.svc.people, pipeline.svc.cases, clock=pipeline.clock)
    yield dataclasses.replace(pipeline.svc, settings=settings, outbound=outbound)
    twilio_api.fail_next = False


@pytest.mark.parametrize("twilio_fails_first", [False, True])
def test_a_staff_reply_sent_by_a_job_reaches_twilio_through_its_own_client(
    pipeline: Pipeline, real_twilio: Services, twilio_api: TwilioApiStandIn, twilio_fails_first: bool
) -> None:
    case_id = open_case(pipeline)
    case = real_twilio.cases.get(case_id)
    assert case is not None
    before = len(twilio_api.sent)
    staff_reply(real_twilio, case, "amina", "Hello, I am Amina from the hotline.")
    assert notify_person(real_twilio, case, "handoff_joined")
    twilio_api.fail_next = twilio_fails_first
    assert run_jobs(real_twilio) == 2 + twilio_fails_first
    sent = sorted((m["To"], m["From"], m["Body"]) for m in twilio_api.sent[before:])
    assert sent == sorted([(PERSON, LANTERN_NUMBER, "Hello, I am Amina from the hotline."),
                           (PERSON, LANTERN_NUMBER, real_twilio.render("handoff_joined", "en"))])


def test_job_arguments_in_redis_carry_no_number_and_no_text(pipeline: Pipeline) -> None:
    """RQ keeps job arguments in Redis in clear: case ids, yes; numbers and words, never."""
    reply = "Meet me at the Mombasa clinic tomorrow"
    choose_english(pipeline)
    pipeline.text(RISK)
    case = pipeline.case()
    assert case is not None
    staff_reply(pipeline.svc, case, "amina", reply)
    raw = pipeline.svc.job_redis
    stored = b""
    for key in raw.scan_iter(b"rq:*"):
        kind = raw.type(key)
        values = raw.hgetall(key).values() if kind == b"hash" else raw.lrange(key, 0, -1) if kind == b"list" else []
        for value in values:
            try:
                value = zlib.decompress(value)  # RQ compresses the pickled call
            except zlib.error:
                pass
            stored += value + b"\n"
    assert case.id.encode() in stored and b"send_alert" in stored and b"deliver_message" in stored
    for secret in (PERSON, PERSON.lstrip("+"), ONCALL_NUMBER, ONCALL_NUMBER.lstrip("+"), reply, "passport"):
        assert secret.encode() not in stored, secret


# --- one deadline for the webhook -------------------------------------------------------------------
class SlowRasa(BaseHTTPRequestHandler):
    """A Rasa server that takes far longer than Twilio waits."""

    delay = 6.0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        """Sleep, then answer like Rasa's REST channel."""
        time.sleep(self.delay)
        body = b'[{"text": "too late"}]'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture
def slow_gateway(pipeline: Pipeline) -> Iterator[tuple[FlaskClient, Services]]:
    """The gateway with a 2 s deadline in front of a real Rasa client talking to a server that sleeps."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowRasa)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = dataclasses.replace(pipeline.svc.settings, webhook_deadline_seconds=2.0)
    rasa = RasaClient((f"http://127.0.0.1:{server.server_address[1]}",), "token", "http://127.0.0.1:9", 8.0)
    svc = dataclasses.replace(pipeline.svc, settings=settings, rasa=rasa)
    yield create_app(settings, services=svc).test_client(), svc
    server.shutdown()


@pytest.mark.parametrize(
    ("language", "text", "fallback"),
    [
        ("en", "how do i find a job abroad safely", True),
        ("sw", "ninawezaje kupata kazi nje ya nchi kwa usalama", True),
        ("en", RISK, False),  # a risk message still opens a case and gets the numbers first
    ],
)
def test_a_slow_rasa_still_gets_the_hotline_within_the_deadline(
    slow_gateway: tuple[FlaskClient, Services], language: str, text: str, fallback: bool,
) -> None:
    client, svc = slow_gateway
    sender = "+2547" + "".join(secrets.choice("0123456789") for _ in range(8))
    svc.people.update(svc.person_id(sender), language=language)
    started = time.monotonic()
    response = TwilioHarness(client).post_raw(urlencode(TwilioHarness.form(sender, text)))
    elapsed = time.monotonic() - started
    assert response.status_code == 200  # type: ignore[attr-defined]
    answer = replies(response.data.decode())  # type: ignore[attr-defined]
    assert elapsed < 3.0, elapsed
    assert svc.settings.hotline_number in answer[0]
    if fallback:
        assert answer == [svc.render("hotline_fallback", language)]
    else:
        assert svc.cases.current_for(svc.person_id(sender)) is not None


# --- one message per person at a time ------------------------------------------------------------------
def message(text: str, sender: str = PERSON) -> InboundMessage:
    """Build an inbound SMS as the adapter would."""
    return InboundMessage(channel="sms", sender=sender, recipient=LANTERN_NUMBER, text=text,
                          message_id="SM" + secrets.token_hex(16))


def test_two_risk_messages_at_once_from_one_person_open_one_case(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.rasa.delay = 0.5  # both would have asked Rasa before either opened a case
    answers: list[list[str]] = []
    texts = ["my boss took my passport and locks the door", "they beat me and i cannot leave the house"]
    threads = [threading.Thread(target=lambda t=t: answers.append(handle_inbound(pipeline.svc, message(t))))
               for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cases = pipeline.svc.cases.queue()
    assert len(cases) == 1, [c.id for c in cases]
    assert len(answers) == 2 and all(answers)
    transcript = [t["text"] for t in pipeline.svc.cases.transcript(cases[0].id)]
    assert all(any(t in line for line in transcript) for t in texts), "both messages are on the one case"


@pytest.mark.parametrize("with_open_case", [False, True])
def test_a_message_that_cannot_get_its_turn_in_time_gets_the_hotline_and_is_kept(
    pipeline: Pipeline, with_open_case: bool
) -> None:
    choose_english(pipeline)
    if with_open_case:
        pipeline.text(RISK)
    svc = pipeline.svc
    lock = svc.redis.lock(svc.keys.person_lock(pipeline.person()), timeout=30)
    assert lock.acquire()  # another message of theirs is still being handled
    try:
        started = time.monotonic()
        answer = handle_inbound(svc, message("are you still there"), Deadline.after(1.0))
        assert time.monotonic() - started < 2.0
    finally:
        lock.release()
    assert answer == [pipeline.render("hotline_fallback")]
    case = pipeline.case()
    if with_open_case:
        assert case is not None
        assert "are you still there" in [t["text"] for t in svc.cases.transcript(case.id)]
    else:
        assert case is None
        turns = [svc.vault.decrypt(t) for t in svc.people.recent_turns(pipeline.person())]
        assert any("are you still there" in t for t in turns)


def test_after_stop_a_busy_message_is_answered_only_when_it_looks_like_danger(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("STOP")
    svc = pipeline.svc
    lock = svc.redis.lock(svc.keys.person_lock(pipeline.person()), timeout=30)
    assert lock.acquire()
    try:
        quiet = handle_inbound(svc, message("ok thanks"), Deadline.after(0.2))
        danger = handle_inbound(svc, message("please help me now they are beating me"), Deadline.after(0.2))
    finally:
        lock.release()
    assert quiet == [] and danger == [pipeline.render("hotline_fallback")]


def test_the_person_lock_is_named_by_the_keyed_hash_never_the_number(pipeline: Pipeline) -> None:
    key = pipeline.svc.keys.person_lock(pipeline.person())
    assert pipeline.person() in key and "254711000001" not in key


# --- timeouts on every outbound client and the settings behind them ------------------------------------
def test_twilio_and_rasa_clients_have_timeouts(pipeline: Pipeline) -> None:
    from bot.handoff.outbound import twilio_client

    settings = dataclasses.replace(pipeline.svc.settings, twilio_timeout_seconds=4.0)
    assert twilio_client(settings).http_client.timeout == 4.0
    rasa = RasaClient(("http://127.0.0.1:9",), "token", "http://127.0.0.1:9", 8.0, 1.5)
    assert rasa.timeouts() == (1.5, 8.0) and rasa.timeouts(3.0) == (1.5, 3.0) and rasa.timeouts(1.0) == (1.0, 1.0)
    with pytest.raises(RasaUnavailable, match="deadline"):
        rasa.timeouts(0.0)


@pytest.mark.parametrize(
    ("environ", "field", "value"),
    [
        ({"JOB_RETRY_INTERVALS": "5,15,60"}, "job_retry_intervals", (5, 15, 60)),
        ({"WEBHOOK_DEADLINE_SECONDS": "8.5"}, "webhook_deadline_seconds", 8.5),
        ({"TWILIO_TIMEOUT_SECONDS": "3"}, "twilio_timeout_seconds", 3.0),
    ],
)
def test_job_and_deadline_settings_come_from_the_environment(environ: dict[str, str], field: str,
                                                             value: object) -> None:
    settings = Settings.from_env(environ)
    assert getattr(settings, field) == value
    assert Settings.from_env(settings.as_env()) == settings, "what a worker child process is given"


@pytest.mark.parametrize("environ", [{"WEBHOOK_DEADLINE_SECONDS": "20"}, {"JOB_RETRY_INTERVALS": "5,-1"},
                                     {"JOB_RETRIES": "0"}])
def test_settings_that_would_lose_a_reply_or_a_job_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(environ)
