"""Periodic handoff duties: mark unclaimed cases and queue their reminders (the worker sends them), prune
old ids from the case index (`make run`)."""

from __future__ import annotations

import logging
import time

from bot.core.logs import configure_logging
from bot.core.services import Services, build_services
from bot.core.settings import Settings
from bot.handoff.rules import remind_unclaimed

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 15


def main(argv: list[str] | None = None) -> int:
    """Check for unclaimed cases every few seconds until stopped; an error skips one round."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    svc = build_services(settings)
    while True:
        sweep_once(svc)
        time.sleep(INTERVAL_SECONDS)


def sweep_once(svc: Services) -> int:
    """Delete cases and audit entries past their retention, queue reminders; log and survive any error."""
    try:
        svc.cases.purge_expired()
        svc.db.purge_audit_log(svc.settings.audit_retention_seconds)
        count = remind_unclaimed(svc)
    except Exception as exc:  # noqa: BLE001 - the sweeper must outlive a bad round
        log.error("sweep failed", extra={"error": type(exc).__name__})
        return 0
    if count:
        log.info("unclaimed cases reminded", extra={"count": count})
    return count


if __name__ == "__main__":
    main()
