"""A local HTTP server standing in for Twilio's Messages API; records what was sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def json_reply(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """Write a JSON response from an http.server handler."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class TwilioApiStandIn:
    """Answer POST /2010-04-01/Accounts/{sid}/Messages.json like Twilio (201 + message JSON)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail_next = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.headers.get("Authorization", "").startswith("Basic "):
                    self._reply(401, {"code": 20003, "message": "Authenticate"})
                    return
                if outer.fail_next or not self.path.endswith("/Messages.json"):
                    outer.fail_next = False
                    self._reply(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
                    return
                outer.sent.append({**form, "path": self.path})
                sid = f"SM{len(outer.sent):032x}"
                self._reply(201, {
                    "sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                    "body": form.get("Body"), "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000"),
                    "account_sid": self.path.split("/")[3], "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01", "uri": self.path,
                })

            def _reply(self, status: int, body: dict[str, object]) -> None:
                json_reply(self, status, body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
