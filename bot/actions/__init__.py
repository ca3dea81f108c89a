"""Rasa custom actions (run by `rasa run actions --actions bot.actions`)."""

from bot.actions.resources import ActionFindResources

__all__ = ["ActionFindResources"]
