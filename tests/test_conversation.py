"""End-to-end conversations through the real stack: menus, languages, awareness answers."""

from __future__ import annotations

import pytest

from tests.conftest import Stack, TwilioHarness, content, new_number, reply_languages, stack_settings

pytestmark = pytest.mark.stack


def choose_language(twilio: TwilioHarness, sender: str, number: int) -> list[str]:
    """Open the conversation with a greeting and pick a language from the menu."""
    menu = twilio.text(sender, "hi")
    assert len(menu) == 1 and "\n1 English" in menu[0]
    return twilio.text(sender, str(number))


def test_short_first_message_gets_the_language_menu(twilio: TwilioHarness) -> None:
    """'hi' is too short to guess a language: every language is offered in its own script."""
    [menu] = twilio.text(new_number(), "hi")
    for name in ("English", "Español", "Kiswahili", "हिन्दी", "नेपाली", "বাংলা", "Tagalog", "العربية"):
        assert name in menu


def test_menu_digit_picks_language_then_main_menu(twilio: TwilioHarness, stack: Stack) -> None:
    """Replying 5 picks Kiswahili; the confirmation and main menu come in Kiswahili."""
    replies = choose_language(twilio, new_number(), 5)
    assert len(replies) == 2
    assert all(reply_languages(stack, text) >= {"sw"} for text in replies), replies
    assert "\n1 " in replies[1] and "\n0 " in replies[1]


def test_numbered_menus_navigate_deterministically(twilio: TwilioHarness, stack: Stack) -> None:
    """Digits walk the warning-signs pages and the help menu, whatever NLU would say."""
    sender = new_number()
    choose_language(twilio, sender, 1)
    assert twilio.text(sender, "1")[0].startswith("Warning signs (1/3)")
    assert twilio.text(sender, "1")[0].startswith("Warning signs (2/3)")
    assert twilio.text(sender, "1")[0].startswith("Warning signs (3/3)")
    assert twilio.text(sender, "2")[0].startswith("Get help:")
    assert content(twilio.text(sender, "3")[0]).startswith("Your rights at work")
    assert twilio.text(sender, "0")[0].startswith("Hi, this is Lantern")
    assert "\n1 English" in twilio.text(sender, "4")[0]


@pytest.mark.parametrize(
    ("text", "expected_start"),
    [
        ("how can i tell if this job offer abroad is fake", "Warning signs (1/3)"),
        ("i want to go work in dubai what should i check first", "Safe travel (1/2)"),
        ("can my employer refuse to give me a day off", "Your rights at work"),
        ("if i call the hotline do i have to say my name", "Hotline"),
        ("who won the football match yesterday", "Sorry, I can only help"),
    ],
)
def test_unseen_english_questions(twilio: TwilioHarness, text: str, expected_start: str) -> None:
    """Questions not in the training data get the right answer."""
    sender = new_number()
    choose_language(twilio, sender, 1)
    assert content(twilio.text(sender, text)[0]).startswith(expected_start)


def test_confident_first_message_is_answered_in_its_language_with_a_hint(twilio: TwilioHarness, stack: Stack) -> None:
    """A 3+ word first message in Spanish is answered in Spanish, plus how to change language."""
    replies = twilio.text(new_number(), "como puedo saber si una oferta de trabajo es falsa")
    assert content(replies[0]).startswith("Alertas"), replies
    assert reply_languages(stack, replies[-1]) == {"es"}
    assert "IDIOMA" in replies[-1]


def test_language_is_sticky_and_switches_only_on_a_confident_long_message(twilio: TwilioHarness, stack: Stack) -> None:
    """'ok' or 'gracias' never switch; a full sentence in French does."""
    sender = new_number()
    choose_language(twilio, sender, 1)
    assert reply_languages(stack, twilio.text(sender, "ok")[0]) >= {"en"}
    assert reply_languages(stack, twilio.text(sender, "0")[0]) == {"en"}
    french = twilio.text(sender, "bonjour je voudrais connaitre mes droits au travail")
    assert reply_languages(stack, french[0]) == {"fr"}
    assert reply_languages(stack, twilio.text(sender, "0")[0]) == {"fr"}


def test_language_keyword_reopens_the_menu(twilio: TwilioHarness) -> None:
    """The localized LANGUAGE keyword (here Kiswahili's) shows the language menu again."""
    sender = new_number()
    choose_language(twilio, sender, 5)
    [menu] = twilio.text(sender, "LUGHA")
    assert "\n2 Español" in menu
    assert twilio.text(sender, "2")[0].startswith("OK")


def test_slash_commands_never_reach_rasa_as_intents(twilio: TwilioHarness) -> None:
    """'/signs_page_3' typed by a user does not jump to a menu-only intent."""
    sender = new_number()
    choose_language(twilio, sender, 1)
    replies = twilio.text(sender, "/signs_page_3")
    assert replies and not any(r.startswith("Warning signs (3/3)") for r in replies)


def test_a_long_conversation_keeps_getting_answers(stack: Stack) -> None:
    """Rasa posts the whole tracker to the NLG endpoint: 150 turns must still be answered."""
    with stack_settings(stack, rate_limit_per_minute=1000, rate_limit_per_hour=1000) as twilio:
        sender = new_number()
        choose_language(twilio, sender, 1)
        for turn in range(150):
            replies = twilio.text(sender, ["1", "0", "what are my rights", "2"][turn % 4])
            assert replies and "cannot answer right now" not in replies[0], (turn, replies)


LANGUAGES = ["en", "es", "fr", "pt", "sw", "hi", "ne", "bn", "tl", "ar"]


def play_checked(stack: Stack, twilio: TwilioHarness, script: dict[str, object]) -> None:
    """Play a scripted conversation as a new person and check every turn's expectations."""
    from bench.conversation import PHONE
    from bot.core.services import get_services
    from webhooks.twilio import adapter_for_channel

    sender = new_number()
    language = str(script["language"])
    channel = adapter_for_channel(str(script["channel"]))
    with stack.app.app_context():
        svc = get_services()
        for turn in script["turns"]:  # type: ignore[attr-defined]
            text, expect = turn["user"], turn["expect"]
            replies = twilio.text(sender, text, whatsapp=script["channel"] == "whatsapp")
            where = f"{language}: {text!r} -> {replies}"
            assert replies, f"no reply: {where}"
            if "key" in expect:
                assert channel.prepare(svc.render(expect["key"], language)) in replies, where
            if expect.get("language_menu"):
                assert "1 English" in replies[0], where
            if expect.get("number"):
                assert any(PHONE.search(r) for r in replies), where
            case = svc.cases.current_for(svc.person_id(sender))
            if expect.get("case") == "none":
                assert case is None or not case.active, where
            elif expect.get("case") == "open":
                assert case is not None and case.active, where
            elif expect.get("case") == "closed":
                assert case is not None and not case.active, where


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_whole_conversation_in_every_language(stack: Stack, twilio: TwilioHarness, language: str) -> None:
    """Language by name, number words, labels, 'no' out of context, a fee question (advice),
    a disclosure, yes at the safety question, messages and 0 during the handoff, exit and
    coming back, STOP, START and 0: every turn answered, cases only on the disclosure."""
    from bot.core.services import get_services
    from tests.conversations import scenario

    with stack.app.app_context():
        svc = get_services()
        script = scenario(svc.registry, svc.catalogs, language)
    play_checked(stack, twilio, script)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_first_message_asking_for_help_gets_a_number(stack: Stack, twilio: TwilioHarness, language: str) -> None:
    from bot.core.services import get_services
    from tests.conversations import first_contact_for_help

    with stack.app.app_context():
        script = first_contact_for_help(get_services().registry, language)
    play_checked(stack, twilio, script)
