"""Structured JSON logs that never carry a phone number, message text or profile name."""

from __future__ import annotations

import json
import logging
import re
import sys

_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
SAFE_FIELDS = ("person", "case", "channel", "language", "priority", "intent", "error", "status",
               "latency_ms", "component", "staff", "action", "count", "code", "late", "job")


def scrub(text: str) -> str:
    """Mask anything shaped like a phone number (defence in depth)."""
    return _PHONE.sub("[number]", text)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line with only allow-listed extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record; exceptions keep their type, not their message."""
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": scrub(record.getMessage()),
        }
        for name in SAFE_FIELDS:
            if hasattr(record, name):
                entry[name] = scrub(str(getattr(record, name)))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, stream: object = None) -> None:
    """Send every log record through the JSON formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("werkzeug").setLevel("WARNING")
    logging.getLogger("urllib3").setLevel("WARNING")
    logging.getLogger("twilio").setLevel("WARNING")
