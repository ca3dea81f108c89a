"""Handoff behaviour around the pipeline: escalate, relay while staff own the chat, close."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from redis.exceptions import RedisError

from bot.conversation.answers import Reading
from bot.conversation.people import PersonState
from bot.conversation.risk import RiskFinding, higher_priority
from bot.core.services import Services
from bot.dialogue.client import RasaReply
from bot.handoff import jobs
from bot.handoff.cases import ACTIVE, Case
from bot.handoff.contact import reply_block
from bot.handoff.hours import OperatingHours
from bot.handoff.outbound import OutboundRefused
from bot.resources.lookup import words_for
from webhooks.base import InboundMessage

log = logging.getLogger(__name__)

ESCALATING_RESPONSES = {
    "utter_escalate_emergency": "emergency",
    "utter_escalate_urgent": "urgent",
    "utter_escalate_normal": "normal",
}
REASONS = {"emergency": "immediate danger", "urgent": "risk disclosure", "normal": "asked for a person"}
SAFETY_CHECK = "utter_safety_check"


def escalation_priority(reply: RasaReply, risk: RiskFinding | None) -> str | None:
    """Combine the two signals: Rasa's escalation responses and the risk screen."""
    from_rasa = None
    for response in reply.responses:
        from_rasa = higher_priority(from_rasa, ESCALATING_RESPONSES.get(response))
    return higher_priority(from_rasa, risk.priority if risk else None)


def escalation_texts(svc: Services, language: str, priority: str) -> list[str]:
    """Numbers first, then (for risk) the optional safety check."""
    texts = [svc.render(f"utter_escalate_{priority}", language)]
    if priority != "normal":
        texts.append(svc.render(SAFETY_CHECK, language))
    return texts


def escalate(
    svc: Services, msg: InboundMessage, person: str, language: str, priority: str,
    reply: RasaReply, risk: RiskFinding | None,
) -> list[str]:
    """Open (or reopen) a case, queue pausing the bot and alerting staff, and tell the person."""
    rasa_matches = bool(reply.responses) and ESCALATING_RESPONSES.get(reply.responses[0]) == priority
    texts = reply.texts if rasa_matches else escalation_texts(svc, language, priority)
    source = "screen+nlu" if risk and rasa_matches else "screen" if risk else "nlu"
    reason = f"{REASONS[priority]} ({source})"
    case = open_case(svc, msg, person, language, priority, reason)
    for text in texts:
        svc.cases.add_turn(case, "bot", text)
    svc.people.update(person, menu=SAFETY_CHECK if priority != "normal" else None)
    try:
        jobs.sync_rasa_pause(svc, case)
        alert_on_call(svc, case, "new")
    except RedisError:  # the person still gets the numbers; the sweeper's reminder alerts staff later
        log.error("could not queue the pause and the alerts", extra={"case": case.id})
    back_at = staff_back_at(svc, language)
    if back_at:
        svc.report("after_hours", channel=msg.channel, language=language, detail=priority)
        texts = texts + [svc.render("handoff_after_hours", language, back_at=back_at)]
    log.info("escalated", extra={"case": case.id, "priority": priority, "language": language})
    return texts


def open_case(svc: Services, msg: InboundMessage, person: str, language: str, priority: str, reason: str) -> Case:
    """Reopen the person's recently closed case, or open a new one."""
    previous = svc.cases.current_for(person)
    now = svc.clock()
    if previous and not previous.active and now - previous.closed_at <= svc.settings.handoff_reopen_seconds:
        case = svc.cases.reopen(previous, priority, reason, msg.sender, now)
        svc.cases.add_turn(case, "user", msg.reply_text or "[message]")
        return case
    return svc.cases.open(
        person, msg.sender, msg.channel, language, priority, reason, svc.people.recent_turns(person), now
    )


def relay_to_staff(
    svc: Services, msg: InboundMessage, person: str, state: PersonState, case: Case,
    risk: RiskFinding | None, reading: Reading, keyword: str | None,
) -> list[str]:
    """While staff own the chat: relay the message to the case and acknowledge it.

    A safety answer is recorded; MENU, a menu number, LANGUAGE and a language name are explained
    (the menu is paused until the chat ends); a message asking for help, a number or a place gets
    the acknowledgement with the hotline every time; anything else at most once per
    HANDOFF_ACK_SECONDS.
    """
    svc.cases.add_turn(case, "user", msg.transcript_text())
    if risk is not None:
        svc.cases.escalate_priority(case, risk.priority, f"{REASONS[risk.priority]} (screen)")
    # The question is on the person's state in Redis; the case (in the database) also knows it is unanswered,
    # so a Redis restart between the question and the answer does not turn "yes" into a message to staff.
    unanswered = state.menu is None and case.safe_to_text == "unknown" and not case.last_staff_at
    if state.menu == SAFETY_CHECK or unanswered:
        safe = reading.yes_no if reading.yes_no is not None else {1: True, 2: False}.get(reading.number or -1)
        if safe is not None:
            svc.people.update(person, menu=None)
            return safety_answer(svc, person, case.language, safe)
    language = case.language
    if reading.language is not None and reading.language != language:
        language = reading.language
        svc.people.update(person, language=language)
        svc.cases.update(case, "updated", language=language)
    if keyword in ("menu", "language") or reading.number is not None or reading.language is not None:
        return bot_turns(svc, case, [svc.render("handoff_menu_paused", language)])
    asks_for_a_number = reading.asks_for_help or bool(words_for(svc.registry, msg.reply_text, "categories"))
    first_in_a_while = svc.redis.set(svc.keys.handoff_ack(person), "1", nx=True, ex=svc.settings.handoff_ack_seconds)
    if asks_for_a_number or first_in_a_while:
        return bot_turns(svc, case, [svc.render("handoff_ack", language)])
    return []


def bot_turns(svc: Services, case: Case, texts: list[str]) -> list[str]:
    """Add what the bot says during a handoff to the case transcript, and return it."""
    for text in texts:
        svc.cases.add_turn(case, "bot", text)
    return texts


def safety_answer(svc: Services, person: str, language: str, safe: bool) -> list[str]:
    """Record the person's answer to 'is it safe to text?' on their case and acknowledge."""
    if not safe:
        svc.people.hold_contact(person, svc.clock())
    case = svc.cases.current_for(person)
    if case is not None and case.active:
        svc.cases.update(case, "updated", safe_to_text="yes" if safe else "no")
        text = svc.render("safe_yes" if safe else "safe_no", language)
        svc.cases.add_turn(case, "bot", text)
        return [text]
    return [svc.render("safe_yes" if safe else "safe_no", language)]


def staff_back_at(svc: Services, language: str) -> str | None:
    """Return when staff are back, formatted for the person, or None when on duty now."""
    hours = OperatingHours.parse(svc.settings.operating_hours, svc.settings.operating_timezone, svc.settings.holidays)
    now = datetime.fromtimestamp(svc.clock(), tz=timezone.utc)
    if hours.is_open(now):
        return None
    opening = hours.next_opening(now)
    if opening is None:
        return "-"
    locale = svc.registry.get(language).locale
    try:
        return format_datetime(opening, "EEEE HH:mm", tzinfo=hours.zone, locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_datetime(opening, "EEEE HH:mm", tzinfo=hours.zone, locale="en")


def alert_on_call(svc: Services, case: Case, what: str) -> None:
    """Queue alerts to on-call staff phones with only the case id and priority."""
    jobs.alert_on_call(svc, case, what)


def staff_reply(svc: Services, case: Case, author: str, text: str) -> None:
    """Check that a staff member's reply may go out now, log it on the case and queue sending it.

    The checks read the case as stored now, not the copy the console loaded: the person may have
    written, or said it is not safe, since. A refusal is raised at once (the console shows it);
    the send job checks the gate again, and puts a send that fails after its retries on the
    case timeline (`reply_failed`)."""
    case = svc.cases.get(case.id) or case
    code, reason = reply_block(svc, case)
    if code or not svc.cases.contact_number(case):
        raise OutboundRefused(reason or "This case has no contact number (erased or closed).", code or "no_contact")
    svc.cases.add_turn(case, "staff", text, author=author)
    jobs.queue_message(svc, case, text, author)


def notify_person(svc: Services, case: Case, key: str) -> bool:
    """Queue a localized handoff notice to the person; False when it may not be sent now."""
    if case.safe_to_text == "no" or not svc.cases.contact_number(case):
        return False
    code, _ = svc.outbound.window_state(case.person)
    if code:
        return False
    text = svc.render(key, case.language)
    if jobs.queue_message(svc, case, text, "bot", once_as=key):
        svc.cases.add_turn(case, "bot", text)
    return True


def close_case(svc: Services, case: Case, author: str, outcome: str, summary: str = "") -> None:
    """Close a case with an outcome (and a short summary for its timeline), queue resuming the bot, tell the person."""
    svc.cases.update(case, "closed", by=author, detail=summary, expect={"status": ACTIVE}, status="closed",
                     outcome=outcome, closed_at=svc.clock())  # CaseConflict when someone closed it first
    jobs.sync_rasa_pause(svc, case)
    notify_person(svc, case, "handoff_closed")


def remind_unclaimed(svc: Services) -> int:
    """Mark cases unclaimed too long and queue re-alerting staff and giving the person the hotline."""
    reminded = 0
    for case in svc.cases.queue():
        waited = svc.clock() - case.created_at
        if case.status == "open" and not case.reminded_at and waited >= svc.settings.handoff_unclaimed_seconds:
            svc.cases.update(case, "reminder", reminded_at=svc.clock())
            alert_on_call(svc, case, "UNCLAIMED")
            notify_person(svc, case, "handoff_waiting")
            reminded += 1
    return reminded
