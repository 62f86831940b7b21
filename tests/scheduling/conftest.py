"""Fixtures of the scheduling tests: an injected clock (the only fake), projects, a real webhook
receiver (threaded http.server) and a real SMTP server (aiosmtpd), both on loopback."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jupyter_mlprod.clock import Clock
from jupyter_mlprod.project import Project
from jupyter_mlprod.scheduling import Scheduler

UTC = dt.timezone.utc


class FakeClock(Clock):
    """Time moves only when the test says so. sleep() advances it."""

    def __init__(self, start: dt.datetime):
        self.t = start
        self.m = 1000.0
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self.t

    def monotonic(self) -> float:
        with self._lock:
            return self.m

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float = 0, **delta) -> dt.datetime:
        step = dt.timedelta(seconds=seconds, **delta)
        with self._lock:
            self.t += step
            self.m += step.total_seconds()
            return self.t

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self.m += (when - self.t).total_seconds()
            self.t = when


@pytest.fixture
def clock():
    # a Monday, 04:59:30 UTC (05:59:30 in Paris, winter time)
    return FakeClock(dt.datetime(2025, 1, 6, 4, 59, 30, tzinfo=UTC))


@pytest.fixture
def open_project():
    opened = []

    def _open(root, **overrides) -> Project:
        overrides.setdefault("parallelism", 1)
        project = Project(root, **overrides)
        opened.append(project)
        return project

    yield _open
    for project in opened:
        project.close()


@pytest.fixture
def schedulers():
    """Build schedulers that are stopped at the end of the test."""
    made = []

    def _make(project, **kwargs) -> Scheduler:
        scheduler = Scheduler(project, **kwargs)
        made.append(scheduler)
        return scheduler

    yield _make
    for scheduler in made:
        scheduler.stop(timeout=5)


def wait_for(predicate, timeout: float = 60, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


class WebhookReceiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []   # answers to give, in order; then 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": json.loads(raw), "status": status})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self, user: str | None = None, password: str | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[dict] = []
        self.logins: list[tuple[str, str]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                from email import message_from_bytes, policy

                message = message_from_bytes(envelope.content, policy=policy.default)
                sink.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                      "subject": message["Subject"],
                                      "body": message.get_body().get_content()})
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            if isinstance(auth_data, LoginPassword):
                login = (auth_data.login.decode(), auth_data.password.decode())
                sink.logins.append(login)
                return AuthResult(success=login == (user, password))
            return AuthResult(success=False)

        kwargs = {}
        if user is not None:
            kwargs = dict(authenticator=authenticator, auth_require_tls=False, auth_required=True)
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def close(self):
        self.controller.stop()


@pytest.fixture
def smtp_sink():
    made = []

    def _make(**kwargs) -> SmtpSink:
        sink = SmtpSink(**kwargs)
        made.append(sink)
        return sink

    yield _make
    for sink in made:
        sink.close()


def fires_of(project, name=None):
    return project.scenarios.timeline(since="2000-01-01T00:00:00Z", until="2100-01-01T00:00:00Z",
                                      scenario=name, limit=5000)
