"""Rasa's tracker and lock stores for Lantern (endpoints.yml): nothing readable at rest.

The tracker is encrypted with the same keys as every transcript (Vault), holds only the
current session, keeps no exact coordinates, and is never written back for a person erased
while Rasa was still answering them. The Redis URL (password, TLS, database), key prefix and
retention come from Settings, like everywhere else, not from endpoints.yml.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pluggy
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LOCK_LIFETIME, LockStore, RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore, TrackerStore
from rasa.plugin import plugin_manager
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from redis import Redis
from redis.exceptions import RedisError, WatchError

from bot.core.identity import Vault, erased_marker_id, open_vault
from bot.core.settings import Settings
from bot.core.store import Keys

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa")


class RedactedLogValues:
    """Rasa's anonymisation pipeline hook: every message text, slot or response Rasa's structured logs
    carry (e.g. the REST channel logs the text of a message that timed out) is replaced before it is
    written. Rasa also hands the pipeline each new tracker event (`run`), for an event broker Lantern
    does not have: nothing to do there, the tracker itself is stored encrypted."""

    @staticmethod
    def log_run(value: Any) -> str:
        """Return what is logged instead of a value about the person."""
        return "[redacted]"

    @staticmethod
    def run(event: dict[str, Any]) -> None:
        """Take a new tracker event Rasa offers for anonymised publishing (Lantern publishes none)."""

    @hookimpl
    def get_anonymization_pipeline(self) -> RedactedLogValues:
        """Give Rasa this object as its anonymisation pipeline."""
        return self


def redact_rasa_logs() -> None:
    """Register the redaction with Rasa's plugin manager once (this module loads in the Rasa server)."""
    manager = plugin_manager()
    if not any(isinstance(plugin, RedactedLogValues) for plugin in manager.get_plugins()):
        manager.register(RedactedLogValues())


redact_rasa_logs()

COORDINATE_DECIMALS = 2  # about 1 km: enough to find help nearby, not a doorstep
COORDINATE_FIELDS = {"latitude", "longitude", "lat", "lon"}
SESSION_STARTS = ("session_started", "restart")
LOCK_KEY_SECONDS = 2 * LOCK_LIFETIME


class StoreConfigurationError(RasaException):  # type: ignore[misc]
    """endpoints.yml tries to set what only Lantern's settings may set."""


def refuse_endpoint_settings(url: str | None, kwargs: dict[str, Any]) -> None:
    """Fail loudly when endpoints.yml carries Redis settings (they come from REDIS_URL)."""
    ignored = sorted(set(kwargs) - {"endpoint_config"})
    if url or ignored:
        raise StoreConfigurationError(
            "Set REDIS_URL, RASA_KEY_PREFIX and RETENTION_SECONDS in the environment, "
            f"not in endpoints.yml (found: {', '.join(['url'] * bool(url) + ignored)})."
        )


def round_coordinates(value: Any) -> Any:
    """Return a copy of JSON-like data with every latitude/longitude rounded to about 1 km."""
    if isinstance(value, dict):
        return {
            key: round(float(item), COORDINATE_DECIMALS)
            if key in COORDINATE_FIELDS and isinstance(item, (int, float, str)) and _is_number(item)
            else round_coordinates(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [round_coordinates(item) for item in value]
    return value


def _is_number(value: object) -> bool:
    """Say whether a value reads as a number."""
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def current_session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the events from the start of the current session (Rasa resets state there)."""
    start = 0
    for index, event in enumerate(events):
        if event.get("event") in SESSION_STARTS:
            start = index
            previous = events[index - 1] if index else {}
            if previous.get("event") == "action" and previous.get("name") == "action_session_start":
                start = index - 1
    return events[start:]


class EncryptedTrackerStore(RedisTrackerStore):  # type: ignore[misc]
    """Rasa's Redis tracker store, storing only the current session, encrypted."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        settings: Settings | None = None,
        redis: Redis | None = None,
        **kwargs: Any,
    ) -> None:
        refuse_endpoint_settings(host, kwargs)
        settings = settings or Settings.from_env()
        TrackerStore.__init__(self, domain, event_broker)
        self.red = redis or Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=10)
        self.layout = Keys(settings.redis_key_prefix, settings.rasa_key_prefix)
        self.vault: Vault = open_vault(settings.encryption_keys, settings.secret_key, self.red,
                                       self.layout.retired_keys)
        self.record_exp = settings.retention_seconds
        self.hash_key = settings.sender_hash_key
        self.key_prefix = self.layout.rasa_tracker("")

    def sealed(self, tracker: DialogueStateTracker) -> tuple[str, float]:
        """Return the encrypted current session and the time of its oldest event."""
        dialogue = tracker.as_dialogue().as_dict()
        events = round_coordinates(current_session(dialogue["events"]))
        oldest = min((float(e.get("timestamp") or 0) for e in events), default=0.0)
        return self.vault.encrypt(json.dumps({"name": dialogue["name"], "events": events})), oldest

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Save the current session, unless the person was erased after it began.

        With Redis unreachable the save is dropped here: raising would make Rasa's FailSafeTrackerStore
        keep the tracker in its in-memory store, unencrypted and never expiring."""
        try:
            await self._save(tracker, timeout)
        except RedisError as exc:
            log.warning("tracker not saved: Redis unreachable", extra={"error": type(exc).__name__})

    async def _save(self, tracker: DialogueStateTracker, timeout: float | None) -> None:
        """Write the encrypted current session in one transaction that checks the erasure marker."""
        await self.stream_events(tracker)
        token, oldest = self.sealed(tracker)
        key = self.layout.rasa_tracker(tracker.sender_id)
        erased_key = self.layout.rasa_erased(erased_marker_id(self.hash_key, tracker.sender_id))
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(erased_key)
                    erased_at = pipe.get(erased_key)
                    if erased_at is not None and oldest <= float(erased_at):
                        log.info("tracker of an erased person not saved", extra={"person": tracker.sender_id[:8]})
                        return
                    pipe.multi()
                    pipe.set(key, token, ex=timeout or self.record_exp)
                    pipe.execute()
                    return
                except WatchError:
                    continue

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        """Load and decrypt a conversation (it holds one session; an unreadable one starts afresh)."""
        stored = self.red.get(self.layout.rasa_tracker(sender_id))
        if stored is None:
            return None
        plain = self.vault.try_decrypt(stored)
        if plain is None:
            log.error("tracker unreadable with the configured keys", extra={"person": sender_id[:8]})
            return None
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue.from_parameters(json.loads(plain)))
        return tracker

    async def keys(self) -> list[str]:
        """Return the conversation ids with a stored tracker."""
        return [key.removeprefix(self.key_prefix) for key in self.red.scan_iter(f"{self.key_prefix}*", count=1000)]


class LanternLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's Redis lock store on REDIS_URL, with locks that expire if a process dies holding one."""

    def __init__(self, endpoint_config: Any = None, settings: Settings | None = None) -> None:
        if endpoint_config is not None:
            refuse_endpoint_settings(endpoint_config.url, dict(endpoint_config.kwargs))
        settings = settings or Settings.from_env()
        LockStore.__init__(self)
        self.red = Redis.from_url(settings.redis_url, socket_timeout=10)
        self.key_prefix = Keys(settings.redis_key_prefix, settings.rasa_key_prefix).rasa_lock("")

    def save_lock(self, lock: Any) -> None:
        """Save a ticket lock with an expiry (Rasa's own never expires)."""
        self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(), ex=LOCK_KEY_SECONDS)
