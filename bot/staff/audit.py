"""The staff audit log: who did what to which case, and when (kept in the database)."""

from __future__ import annotations

import logging
import time

from sqlalchemy import insert, select

from bot.core.database import audit_log
from bot.core.services import Services

log = logging.getLogger(__name__)
FIELD_LIMITS = {"staff": 64, "action": 32, "case": 32, "detail": 200}  # characters: entries stay small


def audit(svc: Services, staff: str, action: str, case_id: str = "", detail: str = "") -> None:
    """Record a staff action (never message text or phone numbers), every field bounded in size."""
    fields = {"staff": staff, "action": action, "case": case_id, "detail": detail}
    entry = {name: value[:FIELD_LIMITS[name]] for name, value in fields.items()}
    with svc.db.begin() as connection:
        connection.execute(insert(audit_log).values(at=time.time(), staff=entry["staff"], action=entry["action"],
                                                    case_id=entry["case"], detail=entry["detail"]))
    log.info("staff action", extra={"staff": entry["staff"], "action": entry["action"], "case": entry["case"]})


def recent_audit(svc: Services, count: int = 200) -> list[dict[str, str]]:
    """Return the newest audit entries first."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(count)
    with svc.db.connect() as connection:
        rows = connection.execute(query).all()
    return [{"at": str(row.at), "staff": row.staff, "action": row.action, "case": row.case_id,
             "detail": row.detail} for row in rows]
