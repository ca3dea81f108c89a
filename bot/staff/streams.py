"""A per-process cap on open live-update streams, so console pages and actions always get a thread."""

from __future__ import annotations

import random
import threading

from flask import Flask, Response, current_app

EXTENSION = "lantern_streams"


class StreamSlots:
    """Count open streams of one process; refuse one over the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open = 0
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Take a slot for a new stream; False when the process already serves its cap."""
        with self.lock:
            if self.open >= self.cap:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        """Free the slot of a stream that ended."""
        with self.lock:
            self.open = max(0, self.open - 1)


def slots(app: Flask | None = None) -> StreamSlots:
    """Return the app's stream slots (created on first use from CONSOLE_STREAMS_PER_PROCESS)."""
    from bot.core.services import get_services

    app = app or current_app
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = StreamSlots(get_services().settings.console_streams_per_process)
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def come_back_later() -> Response:
    """Answer an over-cap stream at once: an empty event stream whose `retry:` makes the browser's
    EventSource reconnect in 10-20 s (a 503 would make EventSource give up for good)."""
    retry_ms = random.randint(10_000, 20_000)
    return Response(f"retry: {retry_ms}\n\n", mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "Retry-After": str(retry_ms // 1000)})
