"""The conversation pipeline: one inbound message in, the replies to send back out."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from redis.exceptions import LockError

from bot.conversation.answers import Reading, menu_options
from bot.conversation.keywords import KeywordMatch, match_keyword
from bot.conversation.people import PersonState
from bot.conversation.risk import RiskFinding, screen
from bot.core.deadline import Deadline
from bot.core.identity import opaque_key
from bot.core.rate_limit import Limit, RateLimiter
from bot.core.services import Services
from bot.dialogue.client import RasaReply, RasaUnavailable
from bot.handoff import rules
from bot.language.detect import Detection
from bot.language.text import dominant_script
from bot.resources.lookup import looked_up
from webhooks.base import InboundMessage

log = logging.getLogger(__name__)

LANGUAGE_MENU = "language_menu"
GATEWAY_INTENTS = {"choose_language", "safe_yes", "safe_no"}
PLACE_QUESTION = "utter_ask_place"
RESOURCE_RESPONSES = {"utter_resources", PLACE_QUESTION, "utter_no_resources"}
RASA_SESSION_TURNS = 10
# Keywords that work even while staff own the conversation (the others are relayed to staff).
ALWAYS_AVAILABLE = {"stop", "start", "help", "delete", "exit"}


def handle_inbound(svc: Services, msg: InboundMessage, deadline: Deadline | None = None) -> list[str]:
    """Answer one message: dedupe, one at a time per person, then answer it before the deadline."""
    deadline = deadline or Deadline.after(svc.settings.webhook_deadline_seconds)
    person = svc.person_id(msg.sender)
    if not first_delivery(svc, msg):
        log.info("duplicate delivery ignored", extra={"person": person[:8]})
        return []
    with persons_turn(svc, person, deadline) as my_turn:
        if not my_turn:
            return answer_while_busy(svc, msg, person)
        return answer(svc, msg, person, deadline)


def answer(svc: Services, msg: InboundMessage, person: str, deadline: Deadline) -> list[str]:
    """Limit, keywords, handoff, language, Rasa (in the time left), escalate."""
    state = remember_contact(svc, person)
    svc.report("message", person, msg.channel, state.language, "" if state.last_inbound else "first")
    if over_rate_limit(svc, person):
        return rate_limit_reply(svc, person, state)
    keyword = match_keyword(svc.registry, msg.text, state.language)
    case = svc.cases.current_for(person)
    staff_own_chat = case is not None and case.active
    if keyword and (keyword.action in ALWAYS_AVAILABLE or not staff_own_chat):
        return run_keyword(svc, msg, person, state, keyword, deadline)
    reading = read_message(svc, msg, state)
    risk = None if reading.short else screen_message(svc, msg, state)
    if staff_own_chat and case is not None:
        return rules.relay_to_staff(svc, msg, person, state, case, risk, reading, keyword.action if keyword else None)
    if state.opted_out and risk is None:
        return []
    choice = resolve_language(svc, msg, person, state, risk, reading)
    if choice.language and choice.language != state.language:
        svc.report("language", person, msg.channel, choice.language, "menu" if choice.picked_from_menu else "detected")
    if choice.language is None:
        return choice.before
    svc.people.record_turn(person, "user", msg.transcript_text())
    forced = "menu" if choice.picked_from_menu else None
    replies = choice.before + converse(svc, msg, person, state, choice.language, risk, reading, deadline, forced)
    replies += choice.after
    replies += hotline_if_asked(svc, state, reading, choice.language, replies)
    for text in replies:
        svc.people.record_turn(person, "bot", text)
    return replies


@contextmanager
def persons_turn(svc: Services, person: str, deadline: Deadline) -> Iterator[bool]:
    """Hold the person's lock while one of their messages is handled (two at once are handled one
    after the other); yield False when it could not be had before the deadline. The lock expires
    by itself should its holder die."""
    lock = svc.redis.lock(svc.keys.person_lock(person), timeout=2 * svc.settings.webhook_deadline_seconds,
                          sleep=0.05, blocking_timeout=deadline.remaining())
    acquired = lock.acquire()
    try:
        yield bool(acquired)
    finally:
        if acquired:
            try:
                lock.release()
            except LockError:
                log.warning("person lock expired while a message was handled", extra={"person": person[:8]})


def answer_while_busy(svc: Services, msg: InboundMessage, person: str) -> list[str]:
    """Time ran out waiting for the person's earlier message: keep this one where staff will see it
    (their open case, else their recent turns, which a case opened later starts from), keep the
    contact window open, and give the hotline (after STOP, only when the message looks like danger)."""
    state = svc.people.load(person)
    svc.people.update(person, last_inbound=svc.clock())
    case = svc.cases.current_for(person)
    if case is not None and case.active:
        svc.cases.add_turn(case, "user", msg.transcript_text())
    else:
        svc.people.record_turn(person, "user", msg.transcript_text())
    if state.opted_out and screen_message(svc, msg, state) is None:
        return []
    log.warning("person busy until the deadline: hotline sent", extra={"person": person[:8]})
    return [svc.render("hotline_fallback", state.language or svc.registry.default)]


def read_message(svc: Services, msg: InboundMessage, state: PersonState) -> Reading:
    """Read a message against what the person was last asked (menu labels in their language)."""
    shown = state.menu if state.menu and svc.menus.has_menu(state.menu) and svc.catalogs.has(state.menu) else None
    options = menu_options(svc.render(shown, state.language or svc.registry.default)) if shown else {}
    return svc.answers.read(msg.reply_text, state.language, options, language_menu=state.menu == LANGUAGE_MENU)


def screen_message(svc: Services, msg: InboundMessage, state: PersonState) -> RiskFinding | None:
    """Run the risk screen, telling it the person's language and the one the message is in."""
    text = msg.reply_text
    if not text:
        return None
    detection = svc.detector.detect(text)
    detected = detection.language if detection.supported else None
    return screen(svc.registry, text, state.language, detected)


def hotline_if_asked(
    svc: Services, state: PersonState, reading: Reading, language: str, replies: list[str]
) -> list[str]:
    """At first contact, a message asking for help always gets the hotline number."""
    if state.language is None and reading.asks_for_help and not any(svc.settings.hotline_number in r for r in replies):
        return [svc.render("hotline_line", language)]
    return []


def first_delivery(svc: Services, msg: InboundMessage) -> bool:
    """Mark a provider message id as seen; False when Twilio delivers it again."""
    key = svc.keys.dedupe(opaque_key(svc.settings.sender_hash_key, msg.message_id))
    return bool(svc.redis.set(key, "1", nx=True, ex=svc.settings.dedupe_seconds))


def remember_contact(svc: Services, person: str) -> PersonState:
    """Load a person's state and record that they wrote now (opens the contact window)."""
    state = svc.people.load(person)
    svc.people.update(person, last_inbound=svc.clock())
    return state


def over_rate_limit(svc: Services, person: str) -> bool:
    """Count the message in per-minute and per-hour windows; True when over a limit."""
    limits = (Limit(60, svc.settings.rate_limit_per_minute), Limit(3600, svc.settings.rate_limit_per_hour))
    return RateLimiter(svc.redis, lambda window: svc.keys.rate(person, window), limits).hit(svc.clock())


def rate_limit_reply(svc: Services, person: str, state: PersonState) -> list[str]:
    """Tell a limited person once per hour, then stay quiet."""
    key = svc.keys.rate(person, f"notice{int(svc.clock()) // 3600}")
    if not svc.redis.set(key, "1", nx=True, ex=7200):
        return []
    return [svc.render("rate_limited", state.language or svc.registry.default)]


def run_keyword(
    svc: Services, msg: InboundMessage, person: str, state: PersonState, keyword: KeywordMatch, deadline: Deadline,
) -> list[str]:
    """Carry out STOP, START, HELP, DELETE, EXIT, LANGUAGE or MENU."""
    language = state.language or keyword.language
    svc.report("keyword", person, msg.channel, language, keyword.action)
    if keyword.action == "stop":
        svc.people.update(person, opted_out=True, language=language)
        return [svc.render("stop_confirm", language)]
    if keyword.action == "start":
        svc.people.update(person, opted_out=False, language=language)
        return [svc.render("start_confirm", language)]
    if keyword.action == "help":
        return [svc.render("help_text", language)]
    if keyword.action == "delete":
        erase_person(svc, person)
        return [svc.render("delete_confirm", language)]
    if keyword.action == "exit":
        quick_exit(svc, person)
        return [svc.render("exit_reply", language)]
    if keyword.action == "language":
        return language_menu(svc, person, language)
    svc.people.update(person, language=language, menu=None)
    return converse(svc, msg, person, state, language, None, Reading(), deadline, forced_intent="menu")


def erase_person(svc: Services, person: str) -> None:
    """Erase everything about a person: state, transcript, case transcript, Rasa tracker."""
    svc.cases.erase_for_person(person)
    svc.people.erase(person)
    log.info("person erased", extra={"person": person[:8]})


def quick_exit(svc: Services, person: str) -> None:
    """End the conversation at once: close any open case with a note, forget the session."""
    svc.people.hold_contact(person, svc.clock())
    case = svc.cases.current_for(person)
    if case is not None and case.active:
        svc.cases.add_note(case, "system", "The person used the quick-exit word: the chat ended. "
                                           "Do not write unless they write again.")
        svc.cases.update(case, "closed", status="closed", outcome="person_exited", closed_at=svc.clock(),
                         safe_to_text="no")
    svc.people.forget_session(person)
    svc.people.update(person, menu=None)


def language_menu(svc: Services, person: str, language: str | None, with_hotline: bool = False) -> list[str]:
    """Show the numbered language menu, each language named in its own script."""
    header_language = language or svc.registry.default
    lines = [svc.render("language_menu_header", header_language)]
    lines += [f"{number} {lang.name}" for number, lang in enumerate(svc.registry.languages, 1)]
    svc.people.update(person, menu=LANGUAGE_MENU)
    if with_hotline:
        return ["\n".join(lines), svc.render("hotline_line", header_language)]
    return ["\n".join(lines)]


@dataclass(frozen=True)
class LanguageChoice:
    """The language to answer in (None: a menu was sent), what to say before and after."""

    language: str | None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    picked_from_menu: bool = False


def resolve_language(
    svc: Services, msg: InboundMessage, person: str, state: PersonState, risk: RiskFinding | None,
    reading: Reading,
) -> LanguageChoice:
    """Pick the language: a menu choice or a named language, the sticky one (switched only on a
    confident 3+ word message), the risk pattern's or a confident detection at first contact,
    else ask once with the menu and then use the default language."""
    picked = picked_language(svc, state, reading)
    if picked is not None:
        svc.people.update(person, language=picked, menu=None)
        return LanguageChoice(picked, [svc.render("language_set", picked)], picked_from_menu=True)
    text = msg.reply_text
    detection = svc.detector.detect(text) if text and not reading.short else None
    confident = detection is not None and detection.confident and detection.supported and bool(detection.language)
    if state.language:
        if confident and detection and detection.language != state.language and may_switch(svc, state.language,
                                                                                             detection):
            svc.people.update(person, language=detection.language)
            return LanguageChoice(str(detection.language))
        return LanguageChoice(state.language)
    if risk is not None:
        svc.people.update(person, language=risk.language)
        return LanguageChoice(risk.language)
    if confident and detection and detection.language:
        svc.people.update(person, language=detection.language)
        return LanguageChoice(detection.language, after=[svc.render("language_hint", detection.language)])
    by_script = script_language(svc, msg.reply_text)
    if state.menu == LANGUAGE_MENU:  # asked once already: answer rather than ask again
        language = by_script or svc.registry.default
        svc.people.update(person, language=language, menu=None)
        return LanguageChoice(language, after=[svc.render("language_hint", language)])
    unsupported = bool(detection and not detection.supported)
    with_hotline = unsupported or reading.asks_for_help
    return LanguageChoice(None, language_menu(svc, person, by_script, with_hotline=with_hotline))


def picked_language(svc: Services, state: PersonState, reading: Reading) -> str | None:
    """Return a language chosen by number at the language menu, or named anywhere."""
    if state.menu == LANGUAGE_MENU and reading.number is not None:
        chosen = svc.registry.by_menu_number(reading.number)
        if chosen is not None:
            return chosen.code
    if reading.language is not None and (reading.language != state.language or state.menu == LANGUAGE_MENU):
        return reading.language
    return None


def script_language(svc: Services, text: str) -> str | None:
    """Return the one supported language written in a message's script (Arabic, Bengali), if any."""
    script = dominant_script(text)
    if not script or script == "Latin":
        return None
    writers = [lang.code for lang in svc.registry.languages if lang.script == script]
    return writers[0] if len(writers) == 1 else None


def may_switch(svc: Services, current: str, detection: Detection) -> bool:
    """Switch a sticky language only on strong evidence: a statistical model alone may not move
    someone from a non-Latin-script language to a Latin one (they write theirs in Latin letters
    too, mixed with English)."""
    if detection.method in ("script", "markers") or svc.registry.get(current).script == "Latin":
        return True
    return svc.registry.get(detection.language).script != "Latin"


def dialogue_input(
    svc: Services, msg: InboundMessage, state: PersonState, reading: Reading
) -> tuple[str, dict[str, object]]:
    """Turn a message into Rasa input and metadata: menu answers become intents, '/' never passes."""
    text = msg.reply_text
    number = reading.number
    if reading.yes_no is not None and svc.menus.yes_no(state.menu):
        number = svc.menus.yes_no(state.menu).get("yes" if reading.yes_no else "no")
    if number is not None:
        intent = svc.menus.choice(state.menu, number)
        if intent:
            return "/" + intent, {}
    if msg.location:
        return "/ask_resources", {"latitude": msg.location.latitude, "longitude": msg.location.longitude}
    if state.menu == PLACE_QUESTION and text:
        return "/ask_resources", {"place_text": text}
    return re.sub(r"^[\s/]+", "", text).strip(), {}


def converse(
    svc: Services, msg: InboundMessage, person: str, state: PersonState, language: str,
    risk: RiskFinding | None, reading: Reading, deadline: Deadline, forced_intent: str | None = None,
) -> list[str]:
    """Ask Rasa what to say in the time left (or answer a gateway menu choice) and escalate when needed."""
    user_input, extra = ("/" + forced_intent, {}) if forced_intent else dialogue_input(svc, msg, state, reading)
    if user_input.startswith("/") and user_input[1:] in GATEWAY_INTENTS:
        return gateway_choice(svc, person, language, user_input[1:])
    if not user_input:
        return [svc.render("media_unsupported", language)]
    if state.menu == LANGUAGE_MENU:
        svc.people.update(person, menu=None)
    try:
        with svc.metrics.rasa_call():
            reply = svc.rasa.send(person, user_input, {"language": language, "channel": msg.channel,
                                                       "country": msg.sender_country, **extra}, deadline.remaining())
    except RasaUnavailable as exc:
        log.warning("rasa unavailable", extra={"error": str(exc)})
        svc.report("fallback", person, msg.channel, language, "rasa_down")
        if risk is None:
            return [svc.render("hotline_fallback", language)]
        reply = RasaReply()
    priority = rules.escalation_priority(reply, risk)
    if priority is not None and not user_input.startswith("/"):  # a menu choice of a person is always meant
        reply, priority, risk = gate_escalation(svc, language, reading, reply, priority, risk)
    if priority is not None:
        return rules.escalate(svc, msg, person, language, priority, reply, risk)
    kind, detail = answer_event(reply.responses, user_input)
    svc.report(kind, person, msg.channel, language, detail)
    if RESOURCE_RESPONSES & set(reply.responses):  # the action server saved what it looked up
        svc.report("resource", person, msg.channel, language, looked_up(svc.desk, person))
    remember_menu(svc, person, reply.responses)
    keep_rasa_session_short(svc, person, deadline)
    return reply.texts


def answer_event(responses: list[str], user_input: str) -> tuple[str, str]:
    """Name the report event of an answer: not understood, a menu choice (its intent) or the response given."""
    if "utter_not_understood" in responses:
        return "not_understood", "nlu"
    if user_input.startswith("/"):
        return "menu_choice", user_input[1:]
    return "answer", responses[0] if responses else ""


def gate_escalation(
    svc: Services, language: str, reading: Reading, reply: RasaReply, priority: str, risk: RiskFinding | None,
) -> tuple[RasaReply, str | None, RiskFinding | None]:
    """Keep escalation for disclosure and danger.

    A short reply (yes/no, number, greeting, language) never escalates by itself; a bare plea
    for help asks for a person (a normal case, with the hotline); an unsure NLU guess with no
    risk pattern behind it gets the hotline and the offer of a person instead of a case.
    """
    if reading.short:
        log.info("short reply not escalated", extra={"priority": priority})
        return RasaReply([svc.render("utter_not_understood", language)], ["utter_not_understood"]), None, None
    if reading.plea and priority != "normal":
        return reply, "normal", None
    unsure = reply.confidence is not None and reply.confidence < svc.settings.nlu_escalation_confidence
    if risk is None and priority != "normal" and unsure:
        log.info("unsure risk guess answered with the hotline", extra={"priority": priority})
        return RasaReply([svc.render("utter_report", language)], ["utter_report"]), None, None
    return reply, priority, risk


def keep_rasa_session_short(svc: Services, person: str, deadline: Deadline) -> None:
    """Start a new Rasa session every few turns: the menus carry the context, and Rasa's
    rule prediction slows down with every event in the current session."""
    if svc.people.count_turn(person) % RASA_SESSION_TURNS == 0:
        try:
            svc.rasa.start_new_session(person, deadline.remaining())
        except RasaUnavailable:
            log.warning("could not start a new rasa session")


def remember_menu(svc: Services, person: str, responses: list[str]) -> None:
    """Remember the last menu shown so a digit reply picks from it."""
    menus = [r for r in responses if svc.menus.has_menu(r)]
    svc.people.update(person, menu=menus[-1] if menus else None)


def gateway_choice(svc: Services, person: str, language: str, intent: str) -> list[str]:
    """Answer menu choices the gateway owns (language menu, safety check)."""
    if intent == "choose_language":
        return language_menu(svc, person, language)
    svc.people.update(person, menu=None)
    return rules.safety_answer(svc, person, language, intent == "safe_yes")
