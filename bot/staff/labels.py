"""Words the console shows for stored codes (priorities, statuses, outcomes, events), translated."""

from __future__ import annotations

from bot.staff.i18n import gettext as _

OUTCOMES = ("referred", "resolved", "no_response", "not_a_case", "duplicate")


def priority_labels() -> dict[str, str]:
    """Name each priority in the console language."""
    return {"emergency": _("Emergency"), "urgent": _("Urgent"), "normal": _("Normal")}


def status_labels() -> dict[str, str]:
    """Name each case status in the console language."""
    return {"open": _("Waiting"), "claimed": _("Claimed"), "closed": _("Closed")}


def channel_labels() -> dict[str, str]:
    """Name each channel in the console language."""
    return {"sms": _("SMS"), "whatsapp": _("WhatsApp")}


def outcome_labels() -> dict[str, str]:
    """Name each closing outcome in the console language."""
    return {"referred": _("Referred to a service"), "resolved": _("Resolved"), "no_response": _("No response"),
            "not_a_case": _("Not a trafficking case"), "duplicate": _("Duplicate"),
            "erased_by_person": _("Erased at the person's request")}


def safe_labels() -> dict[str, str]:
    """Say what each answer to "is it safe to text?" means for staff."""
    return {"yes": _("Safe to text: yes"), "no": _("Not safe to text"), "unknown": _("Safe to text: not answered")}


def canned_labels() -> dict[str, str]:
    """Name each canned reply for staff."""
    return {"greeting": _("Greeting"), "still_there": _("Are you still there?"),
            "safety_planning": _("Safety planning"), "closing": _("Closing"), "referral_intro": _("Referral intro")}


def block_reasons(window_hours: int = 24) -> dict[str, str]:
    """Explain, in the console language, why a reply cannot be sent now."""
    return {
        "closed": _("This case is closed."),
        "unsafe": _("The person said it is not safe to text. Do not write until they write again."),
        "no_contact": _("This case has no contact number (the person asked for deletion)."),
        "opted_out": _("The person sent STOP: they must send START before anyone can write."),
        "never_wrote": _("The person has not written to us: Lantern never writes first."),
        "window_closed": _("The person last wrote over {hours} h ago: wait until they write again.").format(
            hours=window_hours),
        "not_owner": _("Claim this case to reply."),
        "refused": _("Twilio refused the message; try again later."),
    }


def event_labels() -> dict[str, str]:
    """Describe each timeline event ({by}, {to} and {outcome} are filled in)."""
    return {
        "opened": _("Case opened by the bot"),
        "reopened": _("Case reopened: the person wrote again"),
        "priority": _("Priority raised by the risk screen"),
        "claimed": _("Claimed by {by}"),
        "transferred": _("Transferred by {by} to {to}"),
        "reminder": _("Unclaimed reminder sent to on-call staff"),
        "reply": _("Reply sent by {by}"),
        "reply_failed": _("A message from {by} could not be delivered"),
        "alert_failed": _("An on-call alert could not be sent"),
        "note": _("Note added by {by}"),
        "safe_to_text:yes": _("The person said it is safe to text"),
        "safe_to_text:no": _("The person said it is not safe to text"),
        "closed": _("Closed by {by}: {outcome}"),
    }
