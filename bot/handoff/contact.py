"""May staff write to the person on a case now? If not, the reason staff are shown."""

from __future__ import annotations

from bot.core.services import Services
from bot.handoff.cases import Case


def reply_block(svc: Services, case: Case) -> tuple[str, str]:
    """Return ("", "") when a staff reply may go out now, else a code and the reason in English."""
    if not case.active:
        return "closed", "This case is closed."
    if case.silenced:
        return "unsafe", "The person said it is not safe to text: wait until they write again."
    if not case.contact:
        return "no_contact", "This case has no contact number (erased or closed)."
    return svc.outbound.window_state(case.person)
