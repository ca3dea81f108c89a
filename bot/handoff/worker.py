"""`lantern worker`: run Lantern's RQ jobs (alerts, Rasa pause and resume, messages to people)."""

from __future__ import annotations

import logging

from redis import Redis
from rq import Worker

from bot.core.logs import configure_logging
from bot.core.services import services_from_env
from bot.handoff.jobs import job_queue, running_with

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Work the queue until SIGTERM or SIGINT (RQ finishes the job under way, then exits)."""
    svc = services_from_env()  # built once, before RQ forks a work horse for each job
    configure_logging(svc.settings.log_level)
    # RQ blocks on the queue for minutes: its own connection, without the gateway's short socket timeout.
    connection = Redis.from_url(svc.settings.redis_url, socket_connect_timeout=2.0)
    worker = Worker([job_queue(svc, connection)], connection=connection)
    log.info("worker started", extra={"component": "worker"})
    with running_with(svc):
        worker.work(with_scheduler=True, logging_level=svc.settings.log_level.upper())
    return 0
