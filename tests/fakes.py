"""Small recording fakes for tests that run without Rasa or Twilio (bedevere's style)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.client import RasaReply, RasaUnavailable
from bot.handoff.outbound import Outbound, SentMessage

# What the trained model answers for the menu intents the gateway sends as "/intent".
INTENT_RESPONSES = {
    "menu": ["utter_main_menu"],
    "greet": ["utter_main_menu"],
    "ask_warning_signs": ["utter_signs_1"],
    "signs_page_2": ["utter_signs_2"],
    "signs_page_3": ["utter_signs_3"],
    "get_help": ["utter_get_help"],
    "ask_report": ["utter_report"],
    "ask_rights": ["utter_rights"],
    "ask_safe_migration": ["utter_safe_migration_1"],
    "safe_migration_page_2": ["utter_safe_migration_2"],
    "ask_resources": ["utter_ask_place"],
    "more_resources": ["utter_no_resources"],
    "ask_human": ["utter_escalate_normal"],
}


@dataclass
class FakeRasa:
    """Answer like Rasa with the gateway's renderer; record every call.

    `answers` maps a whole message text to response names (free text the fake does not
    know gets "not understood"); `down` makes every call fail like an unreachable server;
    `delay` makes it answer that many seconds late (a caller's time limit runs out first).
    """

    render: Callable[[str, str], str]
    answers: dict[str, list[str]] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)  # message text -> the NLU's confidence
    down: bool = False
    delay: float = 0.0
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    def send(self, sender: str, text: str, metadata: dict[str, Any], within: float | None = None) -> RasaReply:
        """Record a message and answer it (after the delay, unless the time given runs out first)."""
        if self.down:
            raise RasaUnavailable("ConnectionError")
        if self.delay:
            time.sleep(min(self.delay, within if within is not None else self.delay))
            if within is not None and within < self.delay:
                raise RasaUnavailable("ReadTimeout")
        self.sent.append((sender, text, metadata))
        if text.startswith("/"):
            responses = INTENT_RESPONSES.get(text[1:], ["utter_not_understood"])
        else:
            responses = self.answers.get(text, ["utter_not_understood"])
        language = str(metadata.get("language", "en"))
        return RasaReply([self.render(r, language) for r in responses], list(responses), self.confidence.get(text))

    def _event(self, name: str, sender: str) -> None:
        """Record a tracker event call, failing when down."""
        if self.down:
            raise RasaUnavailable("ConnectionError")
        self.events.append((name, sender))

    def pause(self, sender: str) -> None:
        """Record a pause."""
        self._event("pause", sender)

    def resume(self, sender: str) -> None:
        """Record a resume."""
        self._event("resume", sender)

    def restart(self, sender: str) -> None:
        """Record a restart."""
        self._event("restart", sender)

    def start_new_session(self, sender: str, within: float | None = None) -> None:
        """Record a new session."""
        self._event("session", sender)

    def component_states(self) -> dict[str, str]:
        """Report the fake's health."""
        state = "down" if self.down else "up"
        return {"rasa": state, "actions": state}


class RecordingOutbound(Outbound):
    """The real outbound gate (window, STOP, on-call list) with sending recorded, not made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, str]] = []

    def _send(self, channel: str, number: str, body: str) -> SentMessage:
        """Record what would go to Twilio."""
        self.sent.append((channel, number, body))
        return SentMessage(f"SM{len(self.sent):032d}", "queued")
