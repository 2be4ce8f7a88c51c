"""A socket-level fault server for the client tests: plain asyncio on loopback, in a thread.

respx proves what the SDK does with an httpx answer; this proves what it does with *bytes on a
socket*: a platform that drips, resets, truncates, inflates, redirects or lies about its content.
Each fault is a coroutine that writes whatever it likes to the raw stream. The server counts the
requests it saw per path, so tests can assert how many attempts the client made.

Bounded by construction: every fault ends on its own within ``MAX_FAULT_SECONDS`` and the
server stops (cancelling what still runs) when the test's ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

MAX_FAULT_SECONDS = 30.0

Writer = asyncio.StreamWriter
Fault = Callable[["Request", Writer], Awaitable[None]]


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def head(status: int, headers: dict[str, str], reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, body: bytes, ctype: str = "application/json", **extra: str) -> Fault:
    async def fault(req: Request, w: Writer) -> None:
        w.write(head(status, {"Content-Type": ctype, "Content-Length": str(len(body)), **extra}))
        w.write(body)
        await w.drain()

    return fault


async def _settle_transports() -> None:
    """Let the loop run the connection-lost callbacks that closing and aborting scheduled, so
    no transport is left half-closed when the loop stops."""
    for _ in range(3):
        await asyncio.sleep(0)


async def _sleep_or_stop(w: Writer, seconds: float) -> bool:
    """Sleep; False once the client has gone (the fault stops writing)."""
    await asyncio.sleep(seconds)
    return not w.is_closing()


def drip_body(interval: float = 0.2) -> Fault:
    """Headers at once, then one byte of body per ``interval``: every read is fast, the answer
    never ends (until MAX_FAULT_SECONDS)."""

    async def fault(req: Request, w: Writer) -> None:
        w.write(head(200, {"Content-Type": "application/json", "Content-Length": "100000"}))
        await w.drain()
        for _ in range(int(MAX_FAULT_SECONDS / interval)):
            w.write(b" ")
            await w.drain()
            if not await _sleep_or_stop(w, interval):
                return

    return fault


def drip_headers(interval: float = 0.2) -> Fault:
    """The status line and headers one byte at a time: the client never even gets a response
    object, so only a deadline below httpx can end this."""

    async def fault(req: Request, w: Writer) -> None:
        data = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 100000
        for i in range(min(len(data), int(MAX_FAULT_SECONDS / interval))):
            w.write(data[i : i + 1])
            await w.drain()
            if not await _sleep_or_stop(w, interval):
                return

    return fault


def reset_mid_body() -> Fault:
    async def fault(req: Request, w: Writer) -> None:
        w.write(head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        w.write(b'{"report_id": "r1", "generated_at": ')
        await w.drain()
        sock = w.get_extra_info("socket")
        # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()

    return fault


def truncated() -> Fault:
    async def fault(req: Request, w: Writer) -> None:
        w.write(head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        w.write(b'{"report_id": "r1", "generated_at": ')
        await w.drain()
        w.close()

    return fault


def declared_oversize() -> Fault:
    async def fault(req: Request, w: Writer) -> None:
        w.write(head(200, {"Content-Type": "application/json", "Content-Length": str(10**12)}))
        w.write(b"{" * 1000)
        await w.drain()

    return fault


def undeclared_oversize(total: int = 4 * 1024 * 1024) -> Fault:
    """Chunked, no length, more than the client's limit."""

    async def fault(req: Request, w: Writer) -> None:
        w.write(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        piece = b" " * 65536
        for _ in range(total // len(piece)):
            w.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await w.drain()
            if w.is_closing():
                return
        w.write(b"0\r\n\r\n")
        await w.drain()

    return fault


def gzip_bomb(inflated: int = 64 * 1024 * 1024) -> Fault:
    """A few dozen kilobytes that inflate to ``inflated`` bytes of JSON whitespace."""
    payload = gzip.compress(b" " * inflated, compresslevel=9)

    async def fault(req: Request, w: Writer) -> None:
        w.write(
            head(
                200,
                {
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                    "Content-Length": str(len(payload)),
                },
            )
        )
        w.write(payload)
        await w.drain()

    return fault


def redirect() -> Fault:
    return answer(302, b"", "text/plain", Location="http://127.0.0.1:9/elsewhere")


class FaultServer:
    """``with FaultServer() as s: s.route("POST", "/v1/reports:query", fault)``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Fault] = {}
        self.hits: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, fault: Fault) -> None:
        self.routes[(method, path)] = fault

    def __enter__(self) -> FaultServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await _settle_transports()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            async with asyncio.timeout(MAX_FAULT_SECONDS + 5):
                while True:  # keep-alive: several requests may share one connection
                    req = await self._read(reader)
                    if req is None:
                        return
                    self.hits[req.path] += 1
                    fault = self.routes.get((req.method, req.path))
                    if fault is None:
                        await answer(404, b'{"title": "no route"}', "application/problem+json")(
                            req, writer
                        )
                    else:
                        await fault(req, writer)
                    if writer.is_closing():
                        return
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            # Abort rather than close: a transport that still holds unsent bytes for a client
            # that has gone would stay "closing" after the loop stops, and its finaliser would
            # warn (ResourceWarning) in whichever later test the garbage collector runs in.
            writer.transport.abort()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Request | None:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Request(method, target, headers, body)


@contextlib.contextmanager
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server
