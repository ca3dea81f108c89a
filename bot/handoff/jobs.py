"""Slow handoff work as RQ jobs on Redis, off the webhook: on-call alerts, Rasa pause and resume,
messages to the person (staff replies, handoff notices).

RQ keeps job arguments in Redis in clear, so a job carries case ids, counters and priorities,
never a phone number or a message text: a text to send waits encrypted with the vault under a
Lantern key until the job is done, and the worker reads the number from the case.

Delivery is at least once, never twice after a recorded success. Each job has a deterministic
id, and a marker set with NX makes a second enqueue of the same id a no-op. A send job checks
its "sent" marker, calls Twilio, then sets the marker: a retry after the marker was set does not
send again, while a worker killed after Twilio accepted the message but before the marker was
set sends it once more when the job is retried. For an on-call alert a duplicate is better than
none, so the marker is set after the call, not before (marking first would be at most once: an
alert lost whenever a worker died mid-send). A short claim taken for the duration of the call keeps
two copies of one job from sending at the same moment.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import LockError
from rq import Queue, Retry
from rq.job import Callback, Job

from bot.core.services import Services, services_from_env
from bot.handoff.cases import Case
from bot.handoff.outbound import OutboundFailed, OutboundRefused

log = logging.getLogger(__name__)

QUEUE = "jobs"
MARKER_SECONDS = 7 * 24 * 3600  # how long a job id stays taken and a "sent" marker stays
RESULT_SECONDS = 0  # a finished job is deleted at once: nobody reads results

_bound: Services | None = None


class SendFailed(RuntimeError):
    """Twilio did not take a message; RQ retries the job. Raised without its cause: RQ stores the
    traceback in Redis, and Twilio's error text can name the number."""


class SendInProgress(RuntimeError):
    """Another run of the same job is sending right now; RQ retries this one later."""


def job_services() -> Services:
    """Return the services jobs run with: the ones bound by the worker (or a test), else from the environment."""
    return _bound if _bound is not None else services_from_env()


@contextmanager
def running_with(svc: Services) -> Iterator[None]:
    """Run jobs with these services (`lantern worker` binds its own once; tests bind the fast pipeline's)."""
    global _bound
    previous, _bound = _bound, svc
    try:
        yield
    finally:
        _bound = previous


def queue_name(svc: Services) -> str:
    """Return Lantern's queue name, behind the key prefix (tests on other prefixes never share jobs)."""
    return svc.keys.job_queue(QUEUE)


def job_queue(svc: Services, connection: Redis | None = None) -> Queue:
    """Return Lantern's RQ queue on a bytes (not decoding) Redis connection."""
    return Queue(queue_name(svc), connection=connection or svc.job_redis,
                 default_timeout=svc.settings.job_timeout_seconds)


def enqueue(svc: Services, name: str, func: Callable[..., object], *args: object,
            on_failure: Callable[..., object] | None = None) -> bool:
    """Queue a job once per name, with retries and backoff; False when that name was queued already."""
    marker = svc.keys.job_enqueued(name)
    if not svc.redis.set(marker, "1", nx=True, ex=MARKER_SECONDS):
        return False
    settings = svc.settings
    try:
        job_queue(svc).enqueue_call(
            func, args=args, job_id=svc.keys.job(name), timeout=settings.job_timeout_seconds,
            retry=Retry(max=settings.job_retries, interval=list(settings.job_retry_intervals)),
            failure_ttl=settings.job_failure_ttl_seconds, result_ttl=RESULT_SECONDS,
            on_failure=Callback(on_failure) if on_failure else None,
        )
    except Exception:
        svc.redis.delete(marker)
        raise
    return True


def sent_once(svc: Services, name: str, send: Callable[[], object]) -> bool:
    """Send unless this job's "sent" marker says it already did; set the marker once Twilio accepted.

    While the call is under way a short claim (SET NX, expiring just after Twilio's timeout) keeps
    a second copy of the job from sending at the same time; a crash leaves the claim to expire, so
    the retry sends. False when the marker was there (a retry after a recorded success)."""
    marker, claim = svc.keys.job_sent(name), svc.keys.job_sending(name)
    if svc.redis.exists(marker):
        return False
    if not svc.redis.set(claim, "1", nx=True, ex=int(svc.settings.twilio_timeout_seconds) + 5):
        raise SendInProgress(name)
    try:
        send()
    except BaseException:
        svc.redis.delete(claim)
        raise
    svc.redis.set(marker, "1", ex=MARKER_SECONDS)
    svc.redis.delete(claim)
    return True


def final_failure(svc: Services, job: Job) -> bool:
    """Say whether a failing send job has no retry left (RQ calls on_failure before each retry too)
    and its message was not sent by another copy of it."""
    return not job.retries_left and not svc.redis.exists(svc.keys.job_sent(str(job.args[0])))


# --- on-call alerts --------------------------------------------------------------------------
def alert_on_call(svc: Services, case: Case, what: str) -> None:
    """Queue one alert per on-call number, with only the case id and priority."""
    for index in range(len(svc.settings.oncall_numbers)):
        name = f"alert:{case.id}:{what}{case.reopened}:{index}"
        enqueue(svc, name, send_alert, name, case.id, what, case.priority, index, on_failure=alert_failed)


def send_alert(name: str, case_id: str, what: str, priority: str, index: int) -> str:
    """Job: send one on-call alert (the number is looked up by its place in ONCALL_NUMBERS)."""
    svc = job_services()
    numbers = svc.settings.oncall_numbers
    if index >= len(numbers):
        log.warning("on-call number gone; alert skipped", extra={"case": case_id})
        return "skipped"
    body = f"Lantern: {what} {priority} case {case_id}"
    try:
        sent = sent_once(svc, name, lambda: svc.outbound.send_to_staff(numbers[index], body))
    except OutboundFailed as exc:
        raise SendFailed(type(exc.__cause__ or exc).__name__) from None
    except OutboundRefused:
        log.warning("on-call alert not sent", extra={"case": case_id})
        return "refused"
    return "sent" if sent else "already sent"


def alert_failed(job: Job, connection: Redis, kind: type[BaseException], value: BaseException,
                 traceback: TracebackType) -> None:
    """After the last retry: log the lost alert and show it on the case timeline."""
    svc = job_services()
    if not final_failure(svc, job):
        return
    case_id = str(job.args[1])
    log.error("on-call alert failed after retries", extra={"case": case_id, "error": kind.__name__})
    case = svc.cases.get(case_id)
    if case is not None:
        svc.cases.record(case, "alert_failed", "system", kind.__name__)


# --- messages to the person --------------------------------------------------------------------
def queue_message(svc: Services, case: Case, text: str, author: str, once_as: str = "") -> bool:
    """Queue a message to the person on a case; a message queued `once_as` a name (a notice) is
    queued once per case and round. False when it was queued already.

    The text waits encrypted under a Lantern key of its own (expiring with RETENTION_SECONDS) and is
    deleted once the job is done, sent or not: a failed job kept for inspection holds no text."""
    name = f"message:{case.id}:{once_as}{case.reopened}" if once_as else f"message:{case.id}:{secrets.token_hex(8)}"
    svc.redis.set(svc.keys.job_text(name), svc.vault.encrypt(text), nx=True, ex=svc.settings.retention_seconds)
    return enqueue(svc, name, deliver_message, name, case.id, author, on_failure=message_failed)


def deliver_message(name: str, case_id: str, author: str) -> str:
    """Job: send a message to the person on a case, through the safe-contact gate, once."""
    svc = job_services()
    outcome = send_message(svc, name, case_id, author)
    svc.redis.delete(svc.keys.job_text(name))  # not reached when Twilio failed: the retry needs it
    return outcome


def send_message(svc: Services, name: str, case_id: str, author: str) -> str:
    """Send a queued message unless the case, its number or the text is gone or the gate refuses."""
    case = svc.cases.get(case_id)
    sealed = svc.redis.get(svc.keys.job_text(name))
    text = svc.vault.try_decrypt(sealed) if sealed else None
    number = svc.cases.contact_number(case) if case else None
    if case is None or text is None or not number:
        log.warning("message not sent: case, text or number gone", extra={"case": case_id})
        if case is not None and not svc.redis.exists(svc.keys.job_sent(name)):
            svc.cases.record(case, "reply_failed", author, "no_contact")
        return "dropped"
    try:
        sent = sent_once(svc, name, lambda: svc.outbound.send_to_person(case.person, number, case.channel, text))
    except OutboundFailed as exc:
        raise SendFailed(type(exc.__cause__ or exc).__name__) from None
    except OutboundRefused as exc:  # the person became unreachable since: never retried
        log.warning("message refused at sending", extra={"case": case_id, "code": exc.code})
        svc.cases.record(case, "reply_failed", author, exc.code)
        return "refused"
    return "sent" if sent else "already sent"


def message_failed(job: Job, connection: Redis, kind: type[BaseException], value: BaseException,
                   traceback: TracebackType) -> None:
    """After the last retry: drop the text, log the undelivered message (no number, no text) and put
    it on the timeline."""
    svc = job_services()
    if not final_failure(svc, job):
        return
    name, case_id, author = (str(arg) for arg in job.args)
    svc.redis.delete(svc.keys.job_text(name))
    log.error("message to the person failed after retries", extra={"case": case_id, "error": kind.__name__})
    case = svc.cases.get(case_id)
    if case is not None:
        svc.cases.record(case, "reply_failed", author, "refused")


# --- Rasa pause and resume ---------------------------------------------------------------------
def sync_rasa_pause(svc: Services, case: Case) -> None:
    """Queue pausing Rasa for an active case, or resuming it for a closed one."""
    action = "pause" if case.active else "resume"
    enqueue(svc, f"rasa:{case.id}:{action}{case.reopened}", apply_rasa_pause, case.id)


def apply_rasa_pause(case_id: str) -> str:
    """Job: pause Rasa while the case is active, resume it once closed.

    It reads the case when it runs, under a per-case lock, so a late retry of a pause can never
    undo the resume that followed it."""
    svc = job_services()
    lock = svc.redis.lock(svc.keys.rasa_pause_lock(case_id), timeout=svc.settings.job_timeout_seconds,
                          blocking_timeout=svc.settings.job_timeout_seconds / 2)
    if not lock.acquire():
        raise TimeoutError("rasa pause lock busy")
    try:
        case = svc.cases.get(case_id)
        if case is None or not case.person:
            return "gone"
        if case.active:
            svc.rasa.pause(case.person)
            return "paused"
        svc.rasa.resume(case.person)
        return "resumed"
    finally:
        release_lock(lock)


def release_lock(lock: Any) -> None:
    """Release a lock that may have expired meanwhile."""
    try:
        lock.release()
    except LockError:
        log.warning("lock expired before release")
