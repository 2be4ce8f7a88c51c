"""What the transport puts on the socket, read from the socket: the request line under a base
URL with a path, the headers the SDK promises (and no others that would matter: no cookie is
ever sent back, however often the platform sets one), and a redirect that is never followed.

The transports send requests straight to httpx's transport rather than through
``httpx.Client.send``; these tests pin down that nothing a platform can see changed with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from credit_sdk import BearerToken, PlatformError, RetryPolicy
from credit_sdk._transport import AsyncTransport, SyncTransport, TransportConfig

TOKEN = "wire-test-bearer-token"
BODY = b'{"ok":true}'


@dataclass
class Wire:
    """A loopback HTTP/1.1 server that records each request's raw head and answers from a
    script (one answer per request, the last one repeated)."""

    answers: list[bytes]
    heads: list[bytes] = field(default_factory=list)
    sock: socket.socket = field(default_factory=socket.socket)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                self.heads.append(head)
                answer = self.answers[min(len(self.heads) - 1, len(self.answers) - 1)]
                conn.sendall(answer)


@pytest.fixture
def wire() -> Iterator[Wire]:
    w = Wire(answers=[])
    w.sock.bind(("127.0.0.1", 0))
    w.sock.listen(8)
    t = threading.Thread(target=w.serve, daemon=True)
    t.start()
    try:
        yield w
    finally:
        with contextlib.suppress(OSError):
            w.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() in serve() on Linux
        w.sock.close()
        t.join(timeout=5)


def _answer(status: str, *headers: str, body: bytes = BODY) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _ok_setting_a_cookie(n: int) -> bytes:
    return _answer(
        "200 OK", "Content-Type: application/json", f"Set-Cookie: session=s{n}; Path=/"
    )


def _config(wire: Wire, prefix: str = "/platform/api") -> TransportConfig:
    return TransportConfig(
        f"http://127.0.0.1:{wire.port}{prefix}",
        BearerToken(TOKEN),
        retry=RetryPolicy(max_attempts=1),
    )


def _header_names(head: bytes) -> list[str]:
    return [line.split(b":", 1)[0].decode().lower() for line in head.split(b"\r\n")[1:]]


def _header(head: bytes, name: str) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.encode():
            return value.strip().decode()
    raise AssertionError(f"no {name} header")


def _check_heads(wire: Wire) -> None:
    first, second = wire.heads[0], wire.heads[1]
    # The request line: the path under the base URL's own path, the query kept.
    assert first.split(b"\r\n")[0] == b"POST /platform/api/v1/reports:query HTTP/1.1"
    assert second.split(b"\r\n")[0] == b"GET /platform/api/v1/lists?since=2026-01-01 HTTP/1.1"
    for head in wire.heads:
        names = _header_names(head)
        assert "cookie" not in names, "a cookie the platform set was sent back"
        assert len(names) == len(set(names)), "a header was sent twice"
        assert _header(head, "authorization") == f"Bearer {TOKEN}"
        assert _header(head, "accept") == "application/json"
        assert _header(head, "accept-encoding") == "gzip"
        assert _header(head, "host") == f"127.0.0.1:{wire.port}"
        assert _header(head, "user-agent").startswith("credit-sdk/")
    assert _header(first, "content-length") == "2"
    assert _header(first, "idempotency-key") == "key-1"


def test_sync_requests_on_the_wire(wire: Wire) -> None:
    wire.answers = [_ok_setting_a_cookie(n) for n in range(3)]
    t = SyncTransport(_config(wire))
    try:
        t.request("POST", "/v1/reports:query", body=b"{}", idempotency_key="key-1")
        t.request("GET", "/v1/lists?since=2026-01-01")
        t.request("GET", "/v1/lists?since=2026-01-01")
    finally:
        t.close()
    assert len(wire.heads) == 3
    _check_heads(wire)


def test_async_requests_on_the_wire(wire: Wire) -> None:
    wire.answers = [_ok_setting_a_cookie(n) for n in range(3)]

    async def main() -> None:
        t = AsyncTransport(_config(wire))
        try:
            await t.request("POST", "/v1/reports:query", body=b"{}", idempotency_key="key-1")
            await t.request("GET", "/v1/lists?since=2026-01-01")
            await t.request("GET", "/v1/lists?since=2026-01-01")
        finally:
            await t.aclose()

    asyncio.run(main())
    assert len(wire.heads) == 3
    _check_heads(wire)


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "307 Temporary Redirect"])
def test_a_redirect_is_never_followed(wire: Wire, status: str) -> None:
    # A redirect would re-send a signed body carrying personal data to wherever it points.
    wire.answers = [
        _answer(status, f"Location: http://127.0.0.1:{wire.port}/elsewhere", body=b""),
        _ok_setting_a_cookie(0),
    ]
    t = SyncTransport(_config(wire, prefix=""))
    try:
        with pytest.raises(PlatformError) as err:
            t.request("POST", "/v1/reports:query", body=b"{}", idempotency_key="key-1")
    finally:
        t.close()
    assert err.value.status_code == int(status.split()[0])
    assert len(wire.heads) == 1

    async def main() -> None:
        t = AsyncTransport(_config(wire, prefix=""))
        try:
            with pytest.raises(PlatformError):
                await t.request("POST", "/v1/reports:query", body=b"{}", idempotency_key="k")
        finally:
            await t.aclose()

    wire.heads.clear()
    asyncio.run(main())
    assert len(wire.heads) == 1
