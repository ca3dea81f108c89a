"""Multi-turn conversation scripts built for every language from its own data (tests and the bench).

Each turn has `user`, `risk` (does this message itself disclose risk?) and `expect`:
`key` (a reply is this catalog sentence in the conversation's language), `case` (none, open or
closed afterwards), `number` (a reply carries a phone number) or `language_menu`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.conversation.answers import menu_options
from bot.conversation.risk import screen
from bot.language.catalogs import Catalogs
from bot.language.nlu_data import read_nlu_file
from bot.language.registry import LanguageRegistry

ROOT = Path(__file__).resolve().parent.parent


def first_screened(registry: LanguageRegistry, language: str, intent: str) -> str:
    """Return the first training example of an intent that the risk screen escalates."""
    for name, text in read_nlu_file(ROOT / "intents" / language / "nlu.yml"):
        if name == intent and len(text.split()) >= 4 and screen(registry, text, language):
            return text
    raise LookupError(f"{language}: no screened {intent} example")


def unseen_question(language: str, intent: str) -> str:
    """Return the first example of an intent written by people who never saw the training data."""
    for name, text in read_nlu_file(ROOT / "bench" / "unseen" / f"{language}.yml"):
        if name == intent and len(text.split()) >= 5:
            return text
    raise LookupError(f"{language}: no unseen {intent} example")


def scenario(registry: LanguageRegistry, catalogs: Catalogs, code: str) -> dict[str, Any]:
    """Build the conversation that walks every short-reply and handoff path in one language."""
    lang = registry.get(code)
    keyword = {action: words[0] for action, words in lang.keywords.items()}
    rights_label = menu_options(catalogs.render("utter_get_help", code))[3]

    def turn(user: str, risk: bool = False, **expect: object) -> dict[str, Any]:
        return {"user": user, "risk": risk, "expect": expect}

    return {"language": code, "name": f"every path in {code}", "channel": "sms", "turns": [
        turn("hi", language_menu=True, case="none"),
        turn(lang.names[0], key="language_set"),
        turn(lang.choices[1][0], key="utter_signs_1"),
        turn("0", key="utter_main_menu"),
        turn(lang.answers["no"][0], case="none"),
        turn("2", key="utter_get_help"),
        turn(rights_label, key="utter_rights"),
        turn(unseen_question(code, "ask_safe_migration"), case="none"),
        turn(first_screened(registry, code, "disclose_risk"), risk=True, case="open", number=True),
        turn(lang.answers["yes"][0], key="safe_yes"),
        turn(lang.greetings[0] + "?", key="handoff_ack", case="open"),
        turn("0", key="handoff_menu_paused", case="open"),
        turn(keyword["exit"], key="exit_reply", case="closed"),
        turn(lang.greetings[0], case="closed"),
        turn(keyword["stop"], key="stop_confirm"),
        turn(keyword["start"], key="start_confirm"),
        turn("0", key="utter_main_menu"),
    ]}


def first_contact_for_help(registry: LanguageRegistry, code: str) -> dict[str, Any]:
    """Build a one-turn conversation: a first message that only asks for help."""
    word = registry.get(code).help_words[0]
    return {"language": code, "name": f"first help in {code}", "channel": "whatsapp",
            "turns": [{"user": f"{word} pls", "risk": False, "expect": {"number": True}}]}
