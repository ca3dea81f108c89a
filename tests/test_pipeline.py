"""handle_inbound branch by branch: real Redis, catalogs and detector; fakes for Rasa and Twilio."""

from __future__ import annotations

import pytest

from tests.conftest import Pipeline

OTHER = "+254711000002"


def choose_english(p: Pipeline, sender: str = "+254711000001") -> None:
    """Get a person past the language menu, in English."""
    p.text("hi", sender)
    p.text("1", sender)


def test_a_duplicate_delivery_gets_no_second_answer(pipeline: Pipeline) -> None:
    from bot.conversation.pipeline import handle_inbound
    from webhooks.base import InboundMessage

    message = InboundMessage("sms", "+254711000001", "+254700999000", "hi", "SM" + "a" * 32)
    assert handle_inbound(pipeline.svc, message)
    assert handle_inbound(pipeline.svc, message) == []


def test_an_unclear_first_message_gets_the_language_menu(pipeline: Pipeline) -> None:
    [menu] = pipeline.text("hi")
    assert "1 English" in menu and "10 العربية" in menu
    assert pipeline.state().menu == "language_menu"
    assert pipeline.rasa.sent == []


def test_a_digit_at_the_language_menu_picks_the_language_and_shows_the_menu(pipeline: Pipeline) -> None:
    pipeline.text("hi")
    replies = pipeline.text("2")
    assert replies[0] == pipeline.render("language_set", "es")
    assert replies[1] == pipeline.render("utter_main_menu", "es")
    assert pipeline.state().language == "es"


def test_a_clear_first_message_is_answered_in_its_language_with_a_hint(pipeline: Pipeline) -> None:
    replies = pipeline.text("hola necesito ayuda con mi trabajo por favor")
    assert pipeline.state().language == "es"
    assert pipeline.render("language_hint", "es") in replies
    assert replies[-1] == pipeline.render("hotline_line", "es")  # it asked for help ("ayuda")
    assert pipeline.rasa.sent[-1][2]["language"] == "es"


def test_a_confident_message_in_another_language_switches_the_sticky_language(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("bonjour je voudrais savoir quels sont mes droits au travail")
    assert pipeline.state().language == "fr"


def test_one_word_never_switches_the_language(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("hola")
    assert pipeline.state().language == "en"


def test_a_menu_digit_becomes_the_intent_of_the_last_menu(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("2")
    assert pipeline.rasa.sent[-1][1] == "/get_help"
    pipeline.text("3")
    assert pipeline.rasa.sent[-1][1] == "/ask_rights"


def test_text_starting_with_a_slash_never_reaches_rasa_as_an_intent(pipeline: Pipeline) -> None:
    forced_intents = ("/immediate_danger", "//ask_human", "  /greet", "/ /immediate_danger@1.0", "\u3000/ask_human",
                      "/\n/greet")
    for number, forced in enumerate(forced_intents):
        sender = f"+2547110001{number:02d}"  # a new person each time: an escalation would silence the rest
        choose_english(pipeline, sender)
        before = len(pipeline.rasa.sent)
        pipeline.text(forced, sender)
        sent = pipeline.rasa.sent[before:]
        assert sent and not sent[0][1].startswith("/"), (forced, sent)


def test_a_shared_location_asks_for_resources_near_it(pipeline: Pipeline) -> None:
    from webhooks.base import Location

    choose_english(pipeline)
    pipeline.text("", channel="whatsapp", location=Location(-4.04, 39.67))
    sender, text, metadata = pipeline.rasa.sent[-1]
    assert text == "/ask_resources" and metadata["latitude"] == -4.04


def test_the_answer_to_which_town_goes_to_the_resource_lookup(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("2")
    pipeline.text("2")
    assert pipeline.state().menu == "utter_ask_place"
    pipeline.text("Mombasa")
    assert pipeline.rasa.sent[-1][1] == "/ask_resources"
    assert pipeline.rasa.sent[-1][2]["place_text"] == "Mombasa"


def test_media_without_text_is_answered(pipeline: Pipeline) -> None:
    from webhooks.base import Media

    choose_english(pipeline)
    replies = pipeline.text("", channel="whatsapp", media=(Media("https://x/1", "image/jpeg"),))
    assert replies == [pipeline.render("media_unsupported")]


def test_rasa_down_gets_the_hotline_in_the_persons_language(pipeline: Pipeline) -> None:
    pipeline.text("hi")
    pipeline.text("5")
    pipeline.rasa.down = True
    assert pipeline.text("habari yako") == [pipeline.render("hotline_fallback", "sw")]


def test_rasa_down_still_escalates_a_risk_message(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.rasa.down = True
    replies = pipeline.text("my boss took my passport and locked me in the house")
    assert pipeline.svc.settings.hotline_number in replies[0]
    case = pipeline.case()
    assert case is not None and case.active and case.priority in ("urgent", "emergency")


def test_an_nlu_escalation_opens_a_case_pauses_rasa_and_alerts_on_call(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.rasa.answers["please can i speak with someone"] = ["utter_escalate_normal"]
    replies = pipeline.text("please can i speak with someone")
    assert replies[0] == pipeline.render("utter_escalate_normal")
    case = pipeline.case()
    assert case is not None and case.priority == "normal" and case.status == "open"
    assert pipeline.rasa.events == [] and pipeline.outbound.sent == []  # queued: the reply did not wait
    assert pipeline.run_jobs() == 2
    assert ("pause", pipeline.person()) in pipeline.rasa.events
    assert pipeline.outbound.sent and pipeline.outbound.sent[0][1] == "+254799000111"
    assert case.id in pipeline.outbound.sent[0][2] and "+2547" not in pipeline.outbound.sent[0][2]


def test_the_risk_screen_escalates_when_rasa_does_not(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.rasa.answers["they took my passport and dont pay me"] = ["utter_rights"]
    replies = pipeline.text("they took my passport and dont pay me")
    case = pipeline.case()
    assert case is not None and case.priority == "urgent" and "screen" in case.reason
    assert replies[-1] == pipeline.render("utter_safety_check")
    assert pipeline.state().menu == "utter_safety_check"


def test_the_safety_answer_is_recorded_on_the_case(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    assert pipeline.text("2") == [pipeline.render("safe_no")]
    case = pipeline.case()
    assert case is not None and case.safe_to_text == "no"


def test_messages_during_a_handoff_are_added_to_the_case(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    pipeline.text("1")
    pipeline.text("are you there")
    case = pipeline.case()
    assert case is not None
    assert any(turn["text"] == "are you there" for turn in pipeline.svc.cases.transcript(case.id))
    assert pipeline.rasa.sent[-1][1] != "are you there"


def test_a_worse_message_during_a_handoff_raises_the_priority(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.rasa.answers["can i talk to a person"] = ["utter_escalate_normal"]
    pipeline.text("can i talk to a person")
    pipeline.text("he is beating me now help me please")
    case = pipeline.case()
    assert case is not None and case.priority == "emergency"


@pytest.mark.parametrize(("word", "key"), [("STOP", "stop_confirm"), ("help", "help_text"),
                                           ("DELETE", "delete_confirm"), ("exit", "exit_reply"),
                                           ("START", "start_confirm")])
def test_keywords_answer_in_the_persons_language(pipeline: Pipeline, word: str, key: str) -> None:
    choose_english(pipeline)
    assert pipeline.text(word) == [pipeline.render(key)]


def test_stop_silences_the_bot_but_not_a_risk_message(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("STOP")
    assert pipeline.state().opted_out
    assert pipeline.text("what are the warning signs") == []
    assert pipeline.text("help me now he has a knife")
    case = pipeline.case()
    assert case is not None and case.priority == "emergency"


def test_delete_erases_the_person_and_closes_their_case(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    case_id = pipeline.case().id  # type: ignore[union-attr]
    pipeline.text("delete")
    assert pipeline.state().language is None
    assert pipeline.svc.cases.transcript(case_id) == []
    closed = pipeline.svc.cases.get(case_id)
    assert closed is not None and closed.status == "closed" and closed.outcome == "erased_by_person"


def test_the_language_keyword_shows_the_language_menu(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    [menu] = pipeline.text("language")
    assert "3 Français" in menu and pipeline.state().menu == "language_menu"


def test_the_menu_keyword_asks_rasa_for_the_menu(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    assert pipeline.text("menu") == [pipeline.render("utter_main_menu")]


def test_the_rate_limit_tells_once_then_stays_quiet(pipeline: Pipeline) -> None:
    limit = pipeline.svc.settings.rate_limit_per_minute
    for _ in range(limit):
        pipeline.text("hi")
    assert pipeline.text("hi") == [pipeline.render("rate_limited")]
    assert pipeline.text("hi") == []


def test_rasa_starts_a_new_session_every_ten_turns(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    for _ in range(10):
        pipeline.text("0")
    assert ("session", pipeline.person()) in pipeline.rasa.events


def test_a_new_escalation_soon_after_close_reopens_the_same_case(pipeline: Pipeline) -> None:
    from bot.handoff.rules import close_case

    choose_english(pipeline)
    pipeline.text("they took my passport and dont pay me")
    first = pipeline.case()
    assert first is not None
    close_case(pipeline.svc, first, "amina", "referred")
    pipeline.text("they took my passport again and dont pay me")
    again = pipeline.case()
    assert again is not None and again.id == first.id and again.reopened == 1 and again.active


def test_different_people_have_separate_state(pipeline: Pipeline) -> None:
    choose_english(pipeline)
    pipeline.text("hi", OTHER)
    pipeline.text("3", OTHER)
    assert pipeline.state().language == "en" and pipeline.state(OTHER).language == "fr"


def test_a_reply_after_a_resource_list_is_understood(pipeline: Pipeline) -> None:
    """The resource list is rendered from parts (no catalog sentence of its own): reading a reply
    against it must not fail."""
    choose_english(pipeline)
    pipeline.svc.people.update(pipeline.person(), menu="utter_resources")
    assert pipeline.text("more please") == [pipeline.render("utter_not_understood")]
