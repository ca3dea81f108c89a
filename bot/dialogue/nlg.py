"""Rasa NLG plugin: call the gateway's /nlg with only what rendering needs, not the whole tracker.

Rasa's stock callback posts every event of the conversation on every response, so each
reply gets slower as a conversation grows. This keeps the callback contract (response,
arguments, tracker, channel) but sends only the latest user event, which carries the
language the gateway chose. Configured in endpoints.yml as `type: bot.dialogue.nlg.LanternNLG`.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

TIMEOUT_SECONDS = 10


class LanternNLG(CallbackNaturalLanguageGenerator):  # type: ignore[misc]
    """Ask the gateway to render a response, sending the latest user event only."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Domain | None = None) -> None:
        super().__init__(endpoint_config)

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Return the gateway's rendering of a response."""
        kwargs.pop("domain_responses", None)
        latest = tracker.get_last_event_for(UserUttered)
        body = {
            "response": utter_action,
            "arguments": kwargs,
            "tracker": {"sender_id": tracker.sender_id, "events": [latest.as_dict()] if latest else []},
            "channel": {"name": output_channel},
        }
        response = await self.nlg_endpoint.request(method="post", json=body, timeout=TIMEOUT_SECONDS)
        if isinstance(response, dict) and self.validate_response(response):
            return response
        raise RasaException("The gateway's NLG endpoint returned an invalid response.")
