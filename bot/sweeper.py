"""Periodic handoff duties: remind about unclaimed cases (run by `make run`)."""

from __future__ import annotations

import logging
import time

from bot.handoff_flow import remind_unclaimed
from bot.logs import configure_logging
from bot.services import build_services
from bot.settings import Settings

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 15


def main() -> None:
    """Check for unclaimed cases every few seconds until stopped."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    svc = build_services(settings)
    while True:
        count = remind_unclaimed(svc)
        if count:
            log.info("unclaimed cases reminded", extra={"count": count})
        time.sleep(INTERVAL_SECONDS)


if __name__ == "__main__":
    main()
