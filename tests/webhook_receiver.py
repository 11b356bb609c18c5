"""A partner's webhook receiver for tests: a real HTTP server on 127.0.0.1, in a
thread, that verifies each request's signature with standardwebhooks as a
partner would, answers 500 to the first `fail_first` requests, then 204, and
keeps every request it got. A slow receiver (`hold`) keeps each request
waiting before it answers, until the test sets `release`; `redirect_to`
answers every request with a 307 there instead."""

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
    path: str = "/hook"


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    fail_first: int = 0
    # Seconds each request waits before its answer, unless `release` is set.
    hold: float = 0.0
    redirect_to: str = ""
    # Every request as it came, and the webhook-ids answered with a 2xx.
    requests: list[Received] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when a request has come in (before it is answered); set `release`
    # to answer the requests held.
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, headers: dict, body: bytes, path: str = "/hook") -> int:
        self.arrived.set()
        if self.hold:
            self.release.wait(self.hold)
        with self.lock:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            if self.redirect_to:
                code = 307
            elif not verified:
                code = 400
            elif len([r for r in self.requests if r.verified]) < self.fail_first:
                code = 500
            else:
                code = 204
                self.accepted.append(headers["webhook-id"])
            self.requests.append(Received(headers, body, verified, code, path))
            return code


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            code = receiver.answer(headers, body, self.path)
            try:
                self.send_response(code)
                if code == 307:
                    self.send_header("location", receiver.redirect_to)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender is gone (a test killed it mid-request)

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
    state.release.set()  # let any request still held end
    server.shutdown()
    server.server_close()
