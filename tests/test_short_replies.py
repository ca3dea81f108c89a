"""Short replies and conversations that never dead-end (fast: real pipeline, fake Rasa and Twilio)."""

from __future__ import annotations

import pytest

from tests.conftest import Pipeline

LANGUAGE_NUMBER = {"en": "1", "es": "2", "fr": "3", "pt": "4", "sw": "5", "hi": "6", "ne": "7", "bn": "8", "tl": "9",
                   "ar": "10"}
RISK = "they took my passport and dont pay me"


def choose(p: Pipeline, language: str = "en", sender: str = "+254711000001") -> None:
    """Get a person past the language menu."""
    p.text("hi", sender)
    p.text(LANGUAGE_NUMBER[language], sender)


def escalate(p: Pipeline, language: str = "en") -> None:
    """Open a case through the NLU, in a language, with the safety question pending."""
    choose(p, language)
    p.rasa.answers["xx disclosure"] = ["utter_escalate_urgent"]
    p.text("xx disclosure")
    assert p.case() is not None and p.state().menu == "utter_safety_check"


@pytest.mark.parametrize(("language", "word", "safe"), [
    ("en", "yes", True), ("en", "yeah its safe", True), ("en", "no", False), ("en", "not now", False),
    ("es", "si", True), ("es", "sí", True), ("es", "no", False), ("pt", "sim", True), ("pt", "nao", False),
    ("fr", "oui", True), ("fr", "non", False), ("sw", "ndio", True), ("sw", "hapana", False),
    ("hi", "haan", True), ("hi", "हां", True), ("hi", "nahi", False), ("ne", "ho", True), ("ne", "hoina", False),
    ("bn", "হ্যাঁ", True), ("bn", "na", False), ("tl", "oo", True), ("tl", "hindi", False),
    ("ar", "نعم", True), ("ar", "لا", False),
])
def test_yes_and_no_words_answer_the_safety_question(pipeline: Pipeline, language: str, word: str, safe: bool) -> None:
    escalate(pipeline, language)
    replies = pipeline.text(word)
    assert replies == [pipeline.render("safe_yes" if safe else "safe_no", language)]
    case = pipeline.case()
    assert case is not None and case.safe_to_text == ("yes" if safe else "no")


@pytest.mark.parametrize(("language", "words"), [
    ("en", "the first one"), ("en", "one"), ("es", "la primera"), ("fr", "le premier"), ("pt", "primeiro"),
    ("sw", "moja"), ("hi", "pehla"), ("ne", "pahilo"), ("bn", "prothom"), ("tl", "yung una"), ("ar", "الأول"),
])
def test_number_words_pick_from_the_menu(pipeline: Pipeline, language: str, words: str) -> None:
    choose(pipeline, language)
    pipeline.text(words)
    assert pipeline.rasa.sent[-1][1] == "/ask_warning_signs"
    assert pipeline.case() is None


@pytest.mark.parametrize(("language", "label", "intent"), [
    ("en", "warning signs", "/ask_warning_signs"), ("en", "Get help", "/get_help"),
    ("es", "pedir ayuda", "/get_help"), ("en", "talk to a person", "/ask_human"),
])
def test_an_option_label_picks_from_the_menu(pipeline: Pipeline, language: str, label: str, intent: str) -> None:
    choose(pipeline, language)
    pipeline.text(label)
    assert pipeline.rasa.sent[-1][1] == intent


def test_a_label_of_the_get_help_menu_picks_it(pipeline: Pipeline) -> None:
    choose(pipeline)
    pipeline.text("2")
    pipeline.text("shelter")
    assert pipeline.rasa.sent[-1][1] == "/ask_resources"


@pytest.mark.parametrize(("name", "language"), [
    ("english", "en"), ("English", "en"), ("español", "es"), ("espanol", "es"), ("francais", "fr"),
    ("portugues", "pt"), ("kiswahili", "sw"), ("swahili", "sw"), ("hindi", "hi"), ("nepali", "ne"),
    ("bangla", "bn"), ("tagalog", "tl"), ("arabic", "ar"), ("arabi", "ar"), ("i speak english", "en"),
])
def test_a_language_name_at_the_language_menu_selects_it(pipeline: Pipeline, name: str, language: str) -> None:
    pipeline.text("hi")
    replies = pipeline.text(name)
    assert pipeline.state().language == language, replies
    assert replies[0] == pipeline.render("language_set", language)
    assert pipeline.case() is None


def test_a_language_name_anywhere_switches_the_language(pipeline: Pipeline) -> None:
    choose(pipeline)
    replies = pipeline.text("kiswahili")
    assert pipeline.state().language == "sw"
    assert replies == [pipeline.render("language_set", "sw"), pipeline.render("utter_main_menu", "sw")]


def test_an_unclear_reply_to_the_language_menu_gets_an_answer_not_the_menu_again(pipeline: Pipeline) -> None:
    pipeline.text("hi")
    replies = pipeline.text("??")
    assert pipeline.state().language == "en"
    assert "1 English" not in replies[0]
    assert pipeline.state().menu != "language_menu"


@pytest.mark.parametrize("text", ["no", "the first one", "la primera", "yes", "hello", "ok"])
def test_short_replies_out_of_context_never_open_a_case(pipeline: Pipeline, text: str) -> None:
    choose(pipeline)
    pipeline.text("language")  # at the language menu, like the texters who opened cases
    pipeline.rasa.answers[text] = ["utter_escalate_emergency"]  # even if the NLU got it wrong
    replies = pipeline.text(text)
    assert replies and pipeline.case() is None


def test_short_replies_after_a_menu_never_open_a_case_even_when_the_nlu_says_danger(pipeline: Pipeline) -> None:
    choose(pipeline)
    pipeline.rasa.answers["no"] = ["utter_escalate_emergency"]
    replies = pipeline.text("no")
    assert replies == [pipeline.render("utter_not_understood")]
    assert pipeline.case() is None


def test_every_message_during_a_handoff_is_relayed_and_acknowledged(pipeline: Pipeline) -> None:
    escalate(pipeline, "sw")
    pipeline.text("ndio")
    assert pipeline.text("hello?") == [pipeline.render("handoff_ack", "sw")]
    assert pipeline.text("uko wapi") == []  # acknowledged recently: relayed quietly
    pipeline.clock.advance(pipeline.svc.settings.handoff_ack_seconds + 1)
    pipeline.redis.delete(pipeline.svc.keys.handoff_ack(pipeline.person()))  # its TTL, as Redis would expire it
    assert pipeline.text("bado?") == [pipeline.render("handoff_ack", "sw")]
    case = pipeline.case()
    assert case is not None
    relayed = [t["text"] for t in pipeline.svc.cases.transcript(case.id) if t["role"] == "user"]
    assert {"hello?", "uko wapi", "bado?"} <= set(relayed)


@pytest.mark.parametrize("text", ["MENU", "0", "language", "menyu"])
def test_menu_and_language_during_a_handoff_are_explained(pipeline: Pipeline, text: str) -> None:
    escalate(pipeline, "sw")
    pipeline.text("ndio")
    assert pipeline.text(text) == [pipeline.render("handoff_menu_paused", "sw")]


def test_a_language_name_during_a_handoff_switches_the_case_language(pipeline: Pipeline) -> None:
    escalate(pipeline)
    pipeline.text("yes")
    assert pipeline.text("español") == [pipeline.render("handoff_menu_paused", "es")]
    case = pipeline.case()
    assert case is not None and case.language == "es"


def test_exit_ends_the_handoff_and_the_next_message_starts_fresh(pipeline: Pipeline) -> None:
    escalate(pipeline)
    assert pipeline.text("exit") == [pipeline.render("exit_reply")]
    case = pipeline.case()
    assert case is not None and not case.active and case.outcome == "person_exited" and case.safe_to_text == "no"
    assert any("quick-exit" in str(n["text"]) for n in pipeline.svc.cases.notes(case.id))
    replies = pipeline.text("hi")
    assert replies and pipeline.rasa.sent[-1][1] == "hi"
    assert not pipeline.svc.cases.get(case.id).active  # type: ignore[union-attr]


def test_start_then_zero_gets_the_menu(pipeline: Pipeline) -> None:
    choose(pipeline)
    pipeline.text("STOP")
    assert pipeline.text("START") == [pipeline.render("start_confirm")]
    assert pipeline.text("0") == [pipeline.render("utter_main_menu")]


def test_start_as_a_first_message_then_zero_gets_the_menu(pipeline: Pipeline) -> None:
    pipeline.text("START")
    assert pipeline.text("0") == [pipeline.render("utter_main_menu")]


@pytest.mark.parametrize("greeting", ["hi", "hii", "namaste", "English", "hello"])
def test_a_one_word_first_message_gets_the_menu_headed_in_the_default_language(pipeline: Pipeline,
                                                                               greeting: str) -> None:
    replies = pipeline.text(greeting)
    if pipeline.state().language is None:
        assert replies[0].startswith(pipeline.render("language_menu_header", "en"))
    else:
        assert pipeline.state().language == "en" and replies[0] == pipeline.render("language_set", "en")


@pytest.mark.parametrize("first", ["help pls", "ayuda", "msaada", "madad chahiye", "مساعدة"])
def test_a_first_message_asking_for_help_gets_the_hotline(pipeline: Pipeline, first: str) -> None:
    replies = pipeline.text(first)
    assert any(pipeline.svc.settings.hotline_number in r for r in replies), replies


def test_the_crisis_reply_to_romanized_hindi_is_in_hindi(pipeline: Pipeline) -> None:
    replies = pipeline.text("mera malik mujhe maar raha hai abhi bachao")
    case = pipeline.case()
    assert case is not None and case.language == "hi", replies
    assert replies[0] == pipeline.render("utter_escalate_emergency", "hi")


def test_the_risk_screen_names_the_language_the_message_is_in(pipeline: Pipeline) -> None:
    from bot.conversation.risk import screen

    finding = screen(pipeline.svc.registry, "mera passport malik ne rakh liya hai", None, "hi")
    assert finding is not None and finding.language == "hi"


def test_sms_replies_carry_no_emoji_and_whatsapp_keeps_them(pipeline: Pipeline) -> None:
    from webhooks.twilio import adapter_for_channel

    text = pipeline.render("utter_signs_1")
    assert "⚠" in text
    assert "⚠" not in adapter_for_channel("sms").prepare(text)
    assert adapter_for_channel("sms").prepare(text).startswith("Warning signs (1/3):")
    assert adapter_for_channel("whatsapp").prepare(text) == text


@pytest.mark.parametrize("text", ["nepali man beat me", "hindi malik maar raha", "english boss hit me"])
def test_a_language_name_inside_a_disclosure_still_escalates(pipeline: Pipeline, text: str) -> None:
    choose(pipeline)
    pipeline.text(text)
    case = pipeline.case()
    assert case is not None and case.active


@pytest.mark.parametrize("plea", ["help pls", "hi can someone help me pls", "tulong po", "nisaidie tafadhali"])
def test_a_bare_plea_for_help_asks_for_a_person_with_the_hotline(pipeline: Pipeline, plea: str) -> None:
    choose(pipeline)
    pipeline.rasa.answers[plea] = ["utter_escalate_emergency"]
    replies = pipeline.text(plea)
    case = pipeline.case()
    assert case is not None and case.priority == "normal"
    assert replies[0] == pipeline.render("utter_escalate_normal")


@pytest.mark.parametrize("text", ["sos", "help me now", "help he has a knife"])
def test_a_distress_call_is_still_an_emergency(pipeline: Pipeline, text: str) -> None:
    choose(pipeline)
    pipeline.text(text)
    case = pipeline.case()
    assert case is not None and case.priority == "emergency"


def test_an_unsure_risk_guess_gets_the_hotline_and_the_offer_of_a_person(pipeline: Pipeline) -> None:
    choose(pipeline)
    text = "they want 300 euro for processing my papers"
    pipeline.rasa.answers[text], pipeline.rasa.confidence[text] = ["utter_escalate_urgent"], 0.3
    assert pipeline.text(text) == [pipeline.render("utter_report")]
    assert pipeline.case() is None
    assert pipeline.text("3") and pipeline.rasa.sent[-1][1] == "/ask_human"


def test_a_sure_risk_guess_opens_a_case(pipeline: Pipeline) -> None:
    choose(pipeline)
    text = "the madam shouts and i sleep in the kitchen"
    pipeline.rasa.answers[text], pipeline.rasa.confidence[text] = ["utter_escalate_urgent"], 0.8
    pipeline.text(text)
    case = pipeline.case()
    assert case is not None and case.priority == "urgent"


def test_the_language_check_finds_a_yes_that_means_no_elsewhere(pipeline: Pipeline) -> None:
    import dataclasses

    from bot.language.check import check_answer_words

    registry = pipeline.svc.registry
    english = registry.get("en")
    broken = dataclasses.replace(english, answers={**english.answers, "no": (*english.answers["no"], "si")})
    problems: list[str] = []
    check_answer_words(dataclasses.replace(registry, languages=(broken, *registry.languages[1:])), problems)
    assert any(p.startswith("en: 'si' is a no here but a yes in ") for p in problems), problems


def test_fee_advice_offers_a_person_as_a_menu_choice(pipeline: Pipeline) -> None:
    choose(pipeline)
    pipeline.rasa.answers["the agent wants 2000 dollars for the visa should i pay"] = ["utter_safe_migration_1"]
    [advice] = pipeline.text("the agent wants 2000 dollars for the visa should i pay")
    assert "3 talk to a person" in advice and pipeline.case() is None
    pipeline.text("3")
    assert pipeline.rasa.sent[-1][1] == "/ask_human"


def test_asking_for_a_number_during_a_handoff_always_gets_the_hotline(pipeline: Pipeline) -> None:
    escalate(pipeline, "sw")
    pipeline.text("ndio")
    assert pipeline.text("uko?") == [pipeline.render("handoff_ack", "sw")]
    for ask in ("nipeni namba ya hotline", "kuna shelter mombasa?"):
        [reply] = pipeline.text(ask)  # inside the acknowledgement interval, and still answered
        assert pipeline.svc.settings.hotline_number in reply
    assert pipeline.text("2") == [pipeline.render("handoff_menu_paused", "sw")]


@pytest.mark.parametrize(("language", "yes", "no"), [
    ("en", "yes", "no"), ("sw", "ndio", "hapana"), ("es", "si", "no"), ("hi", "haan", "nahi"),
])
def test_yes_to_reply_1_more_is_more_and_no_is_the_menu(pipeline: Pipeline, language: str, yes: str, no: str) -> None:
    """"Reply 1 more, 0 menu" reads as a question: yes turns the page, no goes back to the menu."""
    choose(pipeline, language)
    pipeline.text("1")
    assert pipeline.state().menu == "utter_signs_1"
    assert pipeline.text(yes) == [pipeline.render("utter_signs_2", language)]
    assert pipeline.text(no) == [pipeline.render("utter_main_menu", language)]
