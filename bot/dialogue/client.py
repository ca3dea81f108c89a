"""HTTP client for the Rasa server (REST channel, tracker events) and the action server."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, answered with an error, or answered with nothing."""


@dataclass
class RasaReply:
    """What Rasa said for one user message: texts and the response keys behind them."""

    texts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    confidence: float | None = None  # the NLU's confidence in the intent behind the reply


def never_connected(exc: requests.ConnectionError) -> bool:
    """Say whether a request failed before any byte reached the server (refused or not accepted in time)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, NewConnectionError)


class RasaClient:
    """Talk to one Rasa server over HTTP with a shared connection pool."""

    def __init__(self, base_urls: tuple[str, ...], token: str, actions_url: str, timeout: float,
                 connect_timeout: float = 2.0) -> None:
        self.base_urls = tuple(url.rstrip("/") for url in base_urls)
        self.actions_url = actions_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    def server_for(self, sender: str) -> str:
        """Pick the Rasa server for a conversation (stable per sender; all share Redis)."""
        return self.servers_for(sender)[0]

    def servers_for(self, sender: str) -> list[str]:
        """Return the conversation's own server first, then the others in a stable order."""
        first = int(sender[:8], 16) % len(self.base_urls)
        return [self.base_urls[(first + step) % len(self.base_urls)] for step in range(len(self.base_urls))]

    def _post(self, sender: str, path: str, within: float | None, **request: Any) -> requests.Response:
        """POST to the conversation's server; when that server refuses the connection (down, so the
        request never reached it), try the next one: they share the tracker and lock stores in Redis,
        and the gateway's per-person lock keeps one message per person in flight. A timeout is not
        retried elsewhere: that server may still be working on the message."""
        deadline = None if within is None else time.monotonic() + within
        servers = self.servers_for(sender)
        for index, server in enumerate(servers):
            left = None if deadline is None else deadline - time.monotonic()
            try:
                response = self.http.post(f"{server}{path}", timeout=self.timeouts(left), **request)
            except requests.ConnectionError as exc:
                if not never_connected(exc) or index == len(servers) - 1:
                    raise
                continue
            response.raise_for_status()
            return response
        raise RasaUnavailable("no server")  # unreachable: the loop returns or raises

    def timeouts(self, within: float | None = None) -> tuple[float, float]:
        """Return (connect, read) timeouts, cut to the time left when a deadline is given."""
        read = self.timeout if within is None else min(self.timeout, within)
        if read <= 0:
            raise RasaUnavailable("deadline passed")
        return min(self.connect_timeout, read), read

    def send(self, sender: str, text: str, metadata: dict[str, Any], within: float | None = None) -> RasaReply:
        """Send one message through Rasa's REST channel and collect its reply (within seconds, if given)."""
        try:
            response = self._post(sender, "/webhooks/rest/webhook", within,
                                  json={"sender": sender, "message": text, "metadata": metadata})
            items = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        reply = RasaReply()
        for item in items if isinstance(items, list) else []:
            if item.get("text"):
                reply.texts.append(str(item["text"]))
            lantern = (item.get("custom") or {}).get("lantern") or {}
            if lantern.get("response"):
                reply.responses.append(str(lantern["response"]))
            if reply.confidence is None and isinstance(lantern.get("confidence"), (int, float)):
                reply.confidence = float(lantern["confidence"])
        if not reply.texts:
            raise RasaUnavailable("empty answer")
        return reply

    def append_event(self, sender: str, event: dict[str, Any] | list[dict[str, Any]],
                     within: float | None = None) -> None:
        """Append one event or a list of events (pause, resume, restart...) to a tracker."""
        try:
            self._post(sender, f"/conversations/{sender}/tracker/events", within,
                       params={"token": self.token, "include_events": "NONE"}, json=event)
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from exc

    def pause(self, sender: str) -> None:
        """Pause the bot for a conversation (a person has taken over)."""
        self.append_event(sender, {"event": "pause"})

    def resume(self, sender: str) -> None:
        """Resume the bot for a conversation."""
        self.append_event(sender, {"event": "resume"})

    def restart(self, sender: str) -> None:
        """Clear a conversation's dialogue state."""
        self.append_event(sender, {"event": "restart"})

    def start_new_session(self, sender: str, within: float | None = None) -> None:
        """Start a fresh Rasa session so rule prediction stays fast in long conversations."""
        self.append_event(sender, [{"event": "session_started"}, {"event": "action", "name": "action_listen"}],
                          within)

    def component_states(self) -> dict[str, str]:
        """Return 'up' or 'down' for the Rasa server and the action server."""
        states: dict[str, str] = {}
        checks = [("rasa", f"{url}/") for url in self.base_urls] + [("actions", f"{self.actions_url}/health")]
        for name, url in checks:
            try:
                ok = self.http.get(url, timeout=(self.connect_timeout, 2)).ok
            except requests.RequestException:
                ok = False
            states[name] = "up" if ok and states.get(name, "up") == "up" else "down"
        return states
