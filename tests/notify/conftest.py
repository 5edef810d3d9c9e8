"""Notification fixtures: a real SMTP server (aiosmtpd) and a real webhook receiver on
loopback, and Rostra servers wired to them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from rostra.moderation.decision import Action, Decision, Draft, Moderator
from rostra.services.notify_runtime import NotifyRuntime
from rostra.services.notify_worker import Worker
from tests.conftest import ORIGIN, LiveServer, Reader, free_port, running_server

ADMIN_TOKEN = "notify-admin-token-" + secrets.token_hex(8)
T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll until ``condition()`` is truthy; its value. Fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- SMTP ----------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server received, and which recipients it refuses."""

    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if rcpt == address.lower()]


class Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        refusal = self.box.refuse.get(address.lower())
        if refusal:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.box.lock:
            for rcpt in envelope.rcpt_tos:
                self.box.messages.append((rcpt.lower(), message))
        return "250 Message accepted"


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def link(message: EmailMessage, path: str) -> str:
    text, _html = parts(message)
    found = re.search(r"https?://\S+" + re.escape(path) + r"\?token=[\w.\-]+", text)
    assert found, f"no {path} link in:\n{text}"
    return found.group(0)


def unsubscribe_header(message: EmailMessage) -> str:
    value = str(message["List-Unsubscribe"])
    assert value.startswith("<") and value.endswith(">")
    return value[1:-1]


# -- HTML ----------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, str]


class Page(HTMLParser):
    """The parts of a notification page the tests look at: forms, ids, list items."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.ids: dict[str, str] = {}
        self.items: list[str] = []
        self._text_for: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        if tag == "li" and "data-subscription" in a:
            self.items.append(a["data-subscription"])
        self._text_for.append(a.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if self._text_for:
            self._text_for.pop()

    def handle_data(self, data: str) -> None:
        if self._text_for and self._text_for[-1]:
            key = self._text_for[-1]
            self.ids[key] = self.ids.get(key, "") + data


def confirm_address(http: httpx.Client, message: EmailMessage) -> None:
    """Follow the confirmation email's link and press the button, as a reader does."""
    page = http.get(link(message, "/notify/confirm"))
    assert page.status_code == 200, page.text
    form = Page(page.text).forms[0]
    done = http.post(form.action, data=form.fields)
    assert done.status_code == 200
    assert "confirmed" in Page(done.text).ids


# -- webhook receiver ----------------------------------------------------------


@dataclass
class Receiver:
    """An HTTP server that records calls and answers with the next queued status."""

    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec = box["r"]
            with rec.lock:
                status = rec.statuses.pop(0) if rec.statuses else 200
                rec.calls.append({"path": self.path, "headers": dict(self.headers),
                                  "body": body, "status": status})
            self.send_response(status)
            if 300 <= status < 400:  # somewhere else, which a webhook must not follow
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    box["r"] = Receiver(f"http://127.0.0.1:{httpd.server_address[1]}/hook")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield box["r"]
    httpd.shutdown()
    httpd.server_close()


# -- Rostra servers --------------------------------------------------------------


class HoldSites(Moderator):
    """A moderation policy for tests: holds every comment on the listed sites."""

    def __init__(self, inner: Moderator) -> None:
        self.inner = inner
        self.sites: set[str] = set()

    def decide(self, draft: Draft) -> Decision:
        if draft.site_id in self.sites:
            return Decision(Action.HOLD, message="held for review")
        return self.inner.decide(draft)


@dataclass
class NotifyServer:
    live: LiveServer
    mailbox: Mailbox
    holds: HoldSites
    # One event loop for all the test's workers: its thread pool is reused, and so are
    # the per-thread SQLite connections (a new loop per call would open new ones).
    runner: asyncio.Runner = field(default_factory=asyncio.Runner)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    @property
    def runtime(self) -> NotifyRuntime:
        rt: NotifyRuntime = self.live.app.app.state.notify
        return rt

    def worker(self, **options: Any) -> Worker:
        """A worker of our own, as `rostra worker` would run one."""
        rt = self.runtime
        options.setdefault("retry_base_seconds", 1.0)
        return Worker(rt.settings, self.live.services.db, rt.tokens, **options)

    def new_site(self, **settings: Any) -> str:
        return self.live.add_site("n" + secrets.token_hex(5), [ORIGIN], **settings)

    def reader(self, http: httpx.Client, site: str, name: str = "Ana") -> Reader:
        return Reader(name, http, site)

    def subscribe(self, http: httpx.Client, site: str, thread: str, address: str,
                  kind: str = "thread", **extra: Any) -> httpx.Response:
        response = http.post("/api/subscriptions", headers={"Origin": ORIGIN, **extra.pop(
            "headers", {})}, json={"site": site, "thread": thread, "email": address,
                                   "kind": kind, **extra})
        assert response.status_code == 202, response.text
        return response


def _server(backend: str, smtp: tuple[Mailbox, int], **overrides: Any
            ) -> Iterator[NotifyServer]:
    box, port = smtp
    with running_server(
        backend, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        mail_from="News Comments <comments@news.example>", admin_token=ADMIN_TOKEN,
        allow_private_webhooks=True, classifier="off", rate_limits=False, **overrides,
    ) as live:
        holds = HoldSites(live.services.comments.moderator)
        live.services.comments.moderator = holds
        notify = NotifyServer(live, box, holds)
        try:
            yield notify
        finally:
            notify.runner.close()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def notify(request: pytest.FixtureRequest, smtp: tuple[Mailbox, int]) -> Iterator[NotifyServer]:
    """A server whose in-process worker is off: tests drive workers themselves, and
    batch windows (an hour) pass by handing the worker a later ``now``."""
    yield from _server(request.param, smtp, worker=False, notify_batch_seconds=3600)


@pytest.fixture(scope="session", params=BACKENDS)
def notify_auto(request: pytest.FixtureRequest,
                smtp: tuple[Mailbox, int]) -> Iterator[NotifyServer]:
    """A server with its own in-process worker and no batching delay."""
    yield from _server(request.param, smtp, worker=True, notify_batch_seconds=0)


@pytest.fixture
def http(notify: NotifyServer) -> Iterator[httpx.Client]:
    with notify.live.client() as client:
        yield client


def address() -> str:
    return f"r{secrets.token_hex(6)}@readers.example"


def payload(call: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(call["body"])
    return data
