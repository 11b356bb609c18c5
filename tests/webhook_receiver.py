"""A partner's webhook receiver for tests: a real HTTP server on 127.0.0.1, in a
thread, that verifies each request's signature with standardwebhooks as a
partner would, answers 500 to the first `fail_first` requests, then 204, and
keeps every request it got."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict
    body: bytes
    verified: bool
    answered: int


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    fail_first: int = 0
    # Every request as it came, and the webhook-ids answered with a 2xx.
    requests: list[Received] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict, body: bytes) -> int:
        with self.lock:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            if not verified:
                code = 400
            elif len([r for r in self.requests if r.verified]) < self.fail_first:
                code = 500
            else:
                code = 204
                self.accepted.append(headers["webhook-id"])
            self.requests.append(Received(headers, body, verified, code))
            return code


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            code = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    return Handler


@pytest.fixture
def receiver():
    """A Receiver listening on http://127.0.0.1:<free port>/hook until the test ends."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
