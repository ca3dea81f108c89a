"""What a lock screen shows: the first line of every reply, in every language, is neutral."""

from __future__ import annotations

import dataclasses

import pytest

from bot.language.catalogs import NOT_DISCREET_PREFIXED
from bot.language.messages import SOURCE
from tests.conftest import Pipeline

REPLIES = [key for key in SOURCE if not key.startswith(NOT_DISCREET_PREFIXED)]
# Sentences that reach someone in crisis or confirm a safety action: neutral by their own words,
# whatever DISCREET_MODE says.
NEUTRAL_BY_CONTENT = ["utter_escalate_emergency", "utter_escalate_urgent", "utter_escalate_normal",
                      "utter_safety_check", "safe_yes", "safe_no", "delete_confirm", "exit_reply", "handoff_ack",
                      "handoff_menu_paused", "hotline_line", "utter_ask_place", "language_menu_header"]


def test_discreet_mode_is_on_by_default() -> None:
    from bot.core.settings import Settings

    assert Settings().discreet_mode


def test_no_first_line_names_a_sensitive_subject(pipeline: Pipeline) -> None:
    registry = pipeline.svc.registry
    for code in registry.codes:
        for key in REPLIES:
            text = pipeline.render(key, code, back_at="Mon 08:00")
            assert not registry.alarming(text, code), f"{code} {key}: {text.splitlines()[0]!r}"


@pytest.mark.parametrize("key", NEUTRAL_BY_CONTENT)
def test_crisis_and_confirmation_replies_are_neutral_in_their_own_words(pipeline: Pipeline, key: str) -> None:
    plain = dataclasses.replace(pipeline.svc, settings=dataclasses.replace(pipeline.svc.settings,
                                                                           discreet_mode=False))
    for code in plain.registry.codes:
        text = plain.render(key, code)
        assert not plain.registry.alarming(text, code), f"{code}: {text.splitlines()[0]!r}"


def test_the_crisis_reply_gives_the_numbers_before_the_safety_question(pipeline: Pipeline) -> None:
    pipeline.text("hi")
    pipeline.text("1")
    replies = pipeline.text("help me now he has a knife")
    hotline, emergency = pipeline.svc.settings.hotline_number, pipeline.svc.settings.emergency_number
    assert hotline in replies[0] and emergency in replies[0]
    assert replies[1] == pipeline.render("utter_safety_check")


@pytest.mark.parametrize("key", ["delete_confirm", "exit_reply"])
def test_delete_and_exit_confirmations_are_harmless(pipeline: Pipeline, key: str) -> None:
    for code in pipeline.svc.registry.codes:
        assert len(pipeline.render(key, code)) <= 20
