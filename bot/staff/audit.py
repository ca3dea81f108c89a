"""The staff audit log: who did what to which case, and when (a Redis stream)."""

from __future__ import annotations

import logging
import time

from bot.core.services import Services

log = logging.getLogger(__name__)
MAX_ENTRIES = 100_000
FIELD_LIMITS = {"staff": 64, "action": 32, "case": 32, "detail": 200}  # characters: entries stay small


def audit(svc: Services, staff: str, action: str, case_id: str = "", detail: str = "") -> None:
    """Record a staff action (never message text or phone numbers), every field bounded in size."""
    fields = {"staff": staff, "action": action, "case": case_id, "detail": detail}
    entry = {"at": str(time.time()), **{name: value[:FIELD_LIMITS[name]] for name, value in fields.items()}}
    svc.redis.xadd(svc.keys.audit, entry, maxlen=MAX_ENTRIES, approximate=True)
    log.info("staff action", extra={"staff": entry["staff"], "action": entry["action"], "case": entry["case"]})


def recent_audit(svc: Services, count: int = 200) -> list[dict[str, str]]:
    """Return the newest audit entries first."""
    return [fields for _, fields in svc.redis.xrevrange(svc.keys.audit, count=count)]
