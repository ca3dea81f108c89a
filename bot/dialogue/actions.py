"""Rasa custom actions (`rasa run actions --actions bot.dialogue.actions`).

Action: look up nearby resources and hand the list to the NLG for rendering."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core.services import services_from_env
from bot.resources.lookup import lookup_for_tracker, shared_gazetteer
from bot.resources.render import fits_budget, resource_replies


class ActionFindResources(Action):  # type: ignore[misc]
    """Answer a resource request with up to three nearby options, or ask for the town."""

    def __init__(self) -> None:
        """Load the gazetteer when the action server starts, not on the first request."""
        shared_gazetteer(services_from_env().settings.intents_dir)

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_find_resources"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Utter the resource list (or a question) chosen by the directory lookup."""
        svc = services_from_env()
        language = str((tracker.latest_message.get("metadata") or {}).get("language") or svc.registry.default)
        language = language if language in svc.registry.codes else svc.registry.default
        answer = lookup_for_tracker(svc.desk, tracker.sender_id, tracker.latest_message, fits_budget(svc, language))
        for response, arguments in resource_replies(svc, language, *answer):
            dispatcher.utter_message(response=response, **arguments)
        return []
