"""Prometheus metrics for operators: counters kept in the process, case and queue gauges read at scrape time.

Each Services instance has its own CollectorRegistry (tests build many apps). Labels are fixed
words (outcomes, priorities, reasons): never a number, a text or a keyed hash.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from bot.core.database import Database, cases
from bot.core.store import Keys

log = logging.getLogger(__name__)
JOB_QUEUE = "jobs"  # the RQ queue of bot/handoff/jobs.py, behind the key prefix
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class CaseAndQueueCollector(Collector):
    """Read open cases by priority, the oldest unclaimed case's age and the job queue at scrape time."""

    def __init__(self, db: Database, redis: Redis, keys: Keys, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.redis = redis
        self.keys = keys
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges (a source that cannot be read is reported as down, never raised)."""
        up = GaugeMetricFamily("lantern_state_source_up", "Whether a state source could be read at scrape time",
                               labels=["source"])
        try:
            yield from self.case_gauges()
            up.add_metric(["database"], 1)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever is down
            log.warning("metrics: database not read", extra={"error": type(exc).__name__})
            up.add_metric(["database"], 0)
        try:
            yield from self.queue_gauges()
            up.add_metric(["redis"], 1)
        except RedisError as exc:
            log.warning("metrics: job queue not read", extra={"error": type(exc).__name__})
            up.add_metric(["redis"], 0)
        yield up

    def case_gauges(self) -> Iterator[Metric]:
        """Open and claimed cases by priority; age of the oldest case nobody has claimed."""
        by_priority = GaugeMetricFamily("lantern_cases_active", "Active cases by status and priority",
                                        labels=["status", "priority"])
        query = (select(cases.c.status, cases.c.priority, func.count())
                 .where(cases.c.status.in_(("open", "claimed"))).group_by(cases.c.status, cases.c.priority))
        oldest_query = select(func.min(cases.c.waiting_since)).where(cases.c.status == "open")
        with self.db.connect() as connection:
            rows = list(connection.execute(query))
            oldest = connection.execute(oldest_query).scalar()
        counts = {(str(status), str(priority)): int(count) for status, priority, count in rows}
        for status in ("open", "claimed"):
            for priority in ("emergency", "urgent", "normal"):
                by_priority.add_metric([status, priority], counts.get((status, priority), 0))
        yield by_priority
        age = max(0.0, self.clock() - float(oldest)) if oldest else 0.0
        yield GaugeMetricFamily("lantern_oldest_unclaimed_case_seconds",
                                "Seconds the oldest open, unclaimed case has waited (0 when none)", value=age)

    def queue_gauges(self) -> Iterator[Metric]:
        """Jobs waiting in the RQ queue and jobs in its failed registry (RQ's own Redis keys)."""
        name = f"{self.keys.prefix}{JOB_QUEUE}"
        yield GaugeMetricFamily("lantern_job_queue_depth", "Jobs waiting in the queue",
                                value=int(self.redis.llen(f"rq:queue:{name}")))
        yield GaugeMetricFamily("lantern_jobs_failed", "Jobs in the failed-job registry",
                                value=int(self.redis.zcard(f"rq:failed:{name}")))


class Metrics:
    """The process's counters and histograms, and the registry /metrics serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhook_requests = Counter("lantern_webhook_requests", "Twilio webhook requests by outcome",
                                        ["outcome"], registry=self.registry)
        self.webhook_seconds = Histogram("lantern_webhook_seconds", "Time to answer a Twilio webhook",
                                         buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rasa_seconds = Histogram("lantern_rasa_call_seconds", "Time of a message's round trip to Rasa",
                                      buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rasa_failures = Counter("lantern_rasa_failures", "Rasa calls that failed or timed out",
                                     registry=self.registry)
        self.fallback_replies = Counter("lantern_fallback_replies", "Hotline fallback replies sent, by reason",
                                        ["reason"], registry=self.registry)
        self.outbound_refused = Counter("lantern_outbound_refused", "Outbound messages refused by the safety gate",
                                        ["reason"], registry=self.registry)
        self.report_events = Counter("lantern_report_events", "Report events recorded, by kind",
                                     ["kind"], registry=self.registry)

    @contextmanager
    def rasa_call(self) -> Iterator[None]:
        """Time a call to Rasa; count it as failed when it raises."""
        started = time.perf_counter()
        try:
            yield
        except Exception:
            self.rasa_failures.inc()
            raise
        finally:
            self.rasa_seconds.observe(time.perf_counter() - started)

    def watch(self, collector: Collector) -> None:
        """Add a collector read at scrape time."""
        self.registry.register(collector)

    def count_event(self, kind: str, detail: str) -> None:
        """Count a recorded report event (and a fallback reply, when it is one)."""
        self.report_events.labels(kind).inc()
        if kind == "fallback":
            self.fallback_replies.labels(detail or "other").inc()
        elif kind == "outbound_refused":
            self.outbound_refused.labels(detail or "other").inc()


def address_allowed(address: str, networks: tuple[str, ...]) -> bool:
    """Say whether a client address is inside one of the allowed networks."""
    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)
    except ValueError:
        return False
