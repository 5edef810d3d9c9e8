"""The webhook transport against loopback receivers: it gives up on a receiver that does
not answer in time, never goes through a proxy named by the environment, names the URL's
host in TLS (SNI), and says why a name does not resolve."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rostra.notify.model import TransportError
from rostra.notify.webhooks import WebhookTransport, new_secret, resolve
from tests.notify.conftest import Receiver

NAME = "hooks.example"  # resolves to the loopback receiver in these tests


class Listener:
    """A loopback TCP server that hands each connection to ``handle`` in a thread of its
    own and keeps what the handlers record."""

    def __init__(self, handle: Callable[[Listener, socket.socket], None]) -> None:
        self.handle = handle
        self.seen: list[Any] = []
        self.changed = threading.Condition()
        self.release = threading.Event()  # set by the test when it is done
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handle(self, conn)
            except OSError:  # the client gave up (a timeout, a refused certificate)
                pass

    def record(self, item: Any) -> None:
        with self.changed:
            self.seen.append(item)
            self.changed.notify_all()

    def recorded(self, count: int) -> list[Any]:
        """What was recorded, once there are ``count`` records (the server's side of a
        refused handshake may end after the client's)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) >= count, timeout=10)
            return list(self.seen)

    def close(self) -> None:
        self.release.set()
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.sock.close()
        self.thread.join(5)
        for thread in self.threads:
            thread.join(5)


@contextmanager
def listening(handle: Callable[[Listener, socket.socket], None]) -> Iterator[Listener]:
    listener = Listener(handle)
    try:
        yield listener
    finally:
        listener.close()


@contextmanager
def resolving(name: str, port: int) -> Iterator[None]:
    """``name`` resolves to 127.0.0.1 (the system resolver, for this name only)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    with mock.patch.object(socket, "getaddrinfo", getaddrinfo):
        yield


def read_request_head(conn: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def send(transport: WebhookTransport, url: str) -> None:
    asyncio.run(transport.send(url, new_secret(), b"{}", "comment.created", "d1"))


def test_it_gives_up_on_a_receiver_that_does_not_answer_in_time() -> None:
    def answer_late(listener: Listener, conn: socket.socket) -> None:
        listener.record(read_request_head(conn).split(b"\r\n")[0])
        # Held until the test is done, but at most 4 s: under httpx's default timeout of
        # 5 s, so a client without the transport's own timeout would get this answer.
        listener.release.wait(4)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with listening(answer_late) as receiver:
        transport = WebhookTransport(allow_private=True, timeout=0.2)
        with pytest.raises(TransportError) as failed:
            send(transport, f"http://127.0.0.1:{receiver.port}/hook")
        assert receiver.recorded(1) == [b"POST /hook HTTP/1.1"]  # it was asked, and did not answer
    assert str(failed.value).startswith("ReadTimeout")
    assert failed.value.permanent is False  # tried again later


def recorded_and_refused(listener: Listener, conn: socket.socket) -> None:
    """A proxy that must never be asked: it records the request line and answers 502."""
    listener.record(read_request_head(conn).split(b"\r\n")[0])
    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    """A proxy named by every variable that names one, for every host."""
    with listening(recorded_and_refused) as listener:
        for variable in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(variable, raising=False)
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                         "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(variable, f"http://127.0.0.1:{listener.port}")
        yield listener


def test_it_connects_to_the_address_it_checked_not_to_a_proxy_from_the_environment(
    proxy: Listener, receiver: Receiver
) -> None:
    transport = WebhookTransport(allow_private=True, timeout=5)
    send(transport, receiver.url)
    assert [c["path"] for c in receiver.calls] == ["/hook"]
    assert proxy.seen == []


def self_signed(name: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for ``name`` that no client trusts, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[Listener]:
    """A TLS receiver with a certificate for hooks.example from no known authority: it
    records the name each client asks for (SNI, None when none) and whether the
    handshake went through."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(NAME, tmp_path))
    names: list[str | None] = []

    def named(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = named  # type: ignore[assignment]

    def handshake(listener: Listener, conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True):
                listener.record(("handshake", names[-1] if names else None))
        except OSError:  # the client refused the certificate
            listener.record(("refused", names[-1] if names else None))

    with listening(handshake) as listener:
        yield listener


def test_it_names_the_urls_host_in_tls_and_refuses_a_certificate_it_cannot_verify(
    tls_receiver: Listener,
) -> None:
    transport = WebhookTransport(allow_private=True, timeout=5)
    with resolving(NAME, tls_receiver.port), pytest.raises(TransportError) as failed:
        send(transport, f"https://{NAME}:{tls_receiver.port}/hook")
    # The name, not the address it connects to: a receiver behind a shared address picks
    # its certificate by it (and the client checks the certificate against it).
    assert tls_receiver.recorded(1) == [("refused", NAME)]
    assert str(failed.value).startswith("ConnectError: ")
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert failed.value.permanent is False


def test_it_goes_to_a_tls_receiver_directly_even_when_the_environment_names_a_proxy(
    proxy: Listener, tls_receiver: Listener,
) -> None:
    transport = WebhookTransport(allow_private=True, timeout=5)
    with resolving(NAME, tls_receiver.port), pytest.raises(TransportError):
        send(transport, f"https://{NAME}:{tls_receiver.port}/hook")
    assert tls_receiver.recorded(1) == [("refused", NAME)] and proxy.seen == []


def test_it_says_why_a_name_does_not_resolve() -> None:
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def unknown(host: str, *args: Any, **kwargs: Any) -> Any:
        raise error

    with mock.patch.object(socket, "getaddrinfo", unknown), \
            pytest.raises(TransportError) as failed:
        asyncio.run(resolve("https://nowhere.example/hook", allow_private=False))
    assert str(failed.value) == f"cannot resolve nowhere.example: {error}"
    assert failed.value.__cause__ is error and failed.value.permanent is False

    with mock.patch.object(socket, "getaddrinfo", lambda *a, **k: []), \
            pytest.raises(TransportError) as empty:
        asyncio.run(resolve("https://nowhere.example/hook", allow_private=False))
    assert str(empty.value) == "cannot resolve nowhere.example" and not empty.value.permanent
