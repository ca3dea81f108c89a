"""The staff audit log: who did what to which case, and when (a Redis stream)."""

from __future__ import annotations

import logging
import time

from bot.core.services import Services

log = logging.getLogger(__name__)
MAX_ENTRIES = 100_000


def audit(svc: Services, staff: str, action: str, case_id: str = "", detail: str = "") -> None:
    """Record a staff action (never message text or phone numbers)."""
    entry = {"at": str(time.time()), "staff": staff, "action": action, "case": case_id, "detail": detail}
    svc.redis.xadd(svc.keys.audit, entry, maxlen=MAX_ENTRIES, approximate=True)
    log.info("staff action", extra={"staff": staff, "action": action, "case": case_id})


def recent_audit(svc: Services, count: int = 200) -> list[dict[str, str]]:
    """Return the newest audit entries first."""
    return [fields for _, fields in svc.redis.xrevrange(svc.keys.audit, count=count)]
