"""Build and hold Lantern's long-lived services (one instance per app)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from flask import Flask, current_app
from redis import Redis

from bot.conversation.answers import Answers
from bot.conversation.menus import Menus
from bot.conversation.people import People
from bot.core.database import Database
from bot.core.events import DailySalts, EventLog
from bot.core.identity import Vault, open_vault, sender_key
from bot.core.metrics import CaseAndQueueCollector, Metrics
from bot.core.settings import ROOT, Settings
from bot.core.store import Keys, connect, connect_for_jobs
from bot.dialogue.client import RasaClient
from bot.handoff.cases import CaseStore
from bot.handoff.outbound import Outbound
from bot.language.catalogs import Catalogs, needs_neutral_line
from bot.language.detect import LanguageDetector
from bot.language.model import language_model_for
from bot.language.registry import LanguageRegistry, load_registry
from bot.resources.lookup import ResourceDesk, build_desk

EXTENSION = "lantern"


@dataclass
class Services:
    """Everything the pipeline and the console need, built once from the settings."""

    settings: Settings
    redis: Redis
    db: Database
    keys: Keys
    vault: Vault
    registry: LanguageRegistry
    catalogs: Catalogs
    detector: LanguageDetector
    menus: Menus
    people: People
    cases: CaseStore
    rasa: RasaClient
    outbound: Outbound
    desk: ResourceDesk
    answers: Answers
    job_redis: Redis  # bytes, not text: what RQ needs for the job queue
    events: EventLog
    metrics: Metrics
    clock: Callable[[], float] = field(default=time.time)

    def report(self, kind: str, person: str = "", channel: str = "", language: str | None = "",
               detail: str = "") -> None:
        """Record a PII-free report event now (see bot/core/events.py; never raises)."""
        self.events.record(kind, at=self.clock(), person=person, channel=channel, language=language, detail=detail)

    def person_id(self, number: str) -> str:
        """Return the keyed hash standing for a phone number."""
        return sender_key(self.settings.sender_hash_key, number)

    def render(self, key: str, language: str, **values: object) -> str:
        """Render a sentence in a language with the standard numbers filled in.

        In discreet mode, a reply whose first line names a sensitive subject gets a neutral
        greeting line first, so a lock-screen preview shows nothing about the subject.
        """
        direction = self.registry.get(language).direction
        numbers = {"hotline": self.settings.hotline_number, "emergency": self.settings.emergency_number}
        filled = {**numbers, **values}
        if direction == "rtl":  # keep phone numbers and times left-to-right inside RTL text
            filled = {k: f"\u2066{v}\u2069" for k, v in filled.items()}
        text = self.catalogs.render(key, language, **filled)
        if self.discreet(key, text, language):
            text = self.catalogs.render("discreet_first_line", language) + "\n" + text
        return text

    def discreet(self, key: str, text: str, language: str) -> bool:
        """Say whether a rendered reply needs the neutral first line."""
        return self.settings.discreet_mode and needs_neutral_line(self.registry, key, text, language)


def build_services(settings: Settings, redis: Redis | None = None, db: Database | None = None) -> Services:
    """Create every service from the settings (the database schema is brought up to date)."""
    redis = redis or connect(settings.redis_url)
    if db is None:
        db = Database(settings.database_url)
        db.upgrade()
    keys = Keys(settings.redis_key_prefix, settings.rasa_key_prefix)
    vault = open_vault(settings.encryption_keys, settings.secret_key, redis, keys.retired_keys)
    registry = load_registry(settings.locales_dir)
    people = People(redis, keys, vault, settings.retention_seconds, settings.sender_hash_key)
    cases = CaseStore(db, redis, keys, vault, settings.retention_seconds, settings.closed_case_retention_seconds,
                      settings.case_transcript_turns)
    events, metrics = EventLog(db, DailySalts(redis, keys), time.time), Metrics()
    events.listeners.append(metrics.count_event)
    metrics.watch(CaseAndQueueCollector(db, redis, keys))
    cases.events = events
    return Services(
        settings=settings,
        redis=redis,
        db=db,
        keys=keys,
        vault=vault,
        registry=registry,
        catalogs=Catalogs(settings.locales_dir, registry.codes),
        detector=LanguageDetector(registry, language_model_for(settings.intents_dir, registry.codes)),
        menus=Menus.load(ROOT / "domain" / "menus.yml"),
        people=people,
        cases=cases,
        rasa=RasaClient(settings.rasa_urls, settings.rasa_token, settings.actions_url, settings.rasa_timeout_seconds,
                        settings.rasa_connect_timeout_seconds),
        outbound=Outbound(settings, people, cases),
        desk=build_desk(settings, redis, keys, registry),
        answers=Answers(registry),
        job_redis=connect_for_jobs(settings.redis_url),
        events=events,
        metrics=metrics,
    )


@lru_cache(maxsize=1)
def services_from_env() -> Services:
    """Build the services once per process from the environment (action server, sweeper, tools)."""
    return build_services(Settings.from_env())


def init_app(app: Flask, services: Services) -> None:
    """Attach the services to the app."""
    app.extensions[EXTENSION] = services


def get_services() -> Services:
    """Return the current app's services."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
