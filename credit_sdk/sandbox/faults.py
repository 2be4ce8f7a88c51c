"""Per-route fault injection: how the sandbox misbehaves on request.

A :class:`Fault` is set per contract route (or ``"*"`` for every contract route; a fault on
the route itself wins over ``"*"``) and applies to the next ``times`` requests of that route
(``None``: until cleared). Admin routes (``/_sandbox/...``) are never faulted, so a test can
always clear what it set. What a fault does, in order:

1. ``latency_ms``: wait that long first (combines with everything below).
2. ``mode="reset"``: reset the connection (TCP RST) without sending anything. The request is
   *not* processed. A client sees "connection reset by peer" (httpx: ``ReadError``).
3. ``status`` without ``mode``: answer ``status`` with a problem+json body (and
   ``Retry-After: retry_after`` when given) instead of processing the request.
4. any other ``mode``: the request **is** processed (feedback is stored, an objection filed:
   the answer is lost on the way back, the case that idempotency keys exist for), then the
   answer is spoiled, with ``status`` as its status code when given:

   ``truncate``
       the headers declare the full ``Content-Length`` but only half the body is sent before
       the connection closes (httpx: ``RemoteProtocolError``).
   ``malformed``
       ``application/json`` that is not JSON.
   ``wrong_schema``
       valid JSON with the contract's keys holding values of the wrong type.
   ``wrong_content_type``
       the real body, labelled ``text/html``.
   ``oversized``
       a valid JSON object of ``size_bytes`` (default 20 MiB), streamed.

>>> table = FaultTable()
>>> table.set(Fault(route="reports:query", status=503, retry_after=2, times=1))
>>> table.take("reports:query").status, table.take("reports:query")
(503, None)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

__all__ = [
    "CONTRACT_ROUTES",
    "DEFAULT_OVERSIZE_BYTES",
    "TRANSPORT_EXTENSION",
    "AbortConnection",
    "Fault",
    "FaultMode",
    "FaultTable",
    "TruncatedResponse",
    "spoil",
]

CONTRACT_ROUTES = (
    "reports:query",
    "reports:batchQuery",
    "measure-lists",
    "feedback",
    "objections",
    "information:push",
    "information:correct",
    "information:updateBasis",
    "checkpoints",
    "health",
)
"""Route names a fault can target (``measure-lists`` covers the index and the editions)."""

DEFAULT_OVERSIZE_BYTES = 20 * 1024 * 1024
_MAX_OVERSIZE_BYTES = 256 * 1024 * 1024
_MAX_LATENCY_MS = 120_000

TRANSPORT_EXTENSION = "credit_sdk.sandbox.transport"
"""Scope extension under which the sandbox's server hands the app the connection's asyncio
transport (see ``server.py``): ASGI itself has no way to drop a connection unanswered."""

# Valid JSON whose keys are the ones clients look for, each with a value of the wrong type:
# a client that checks only for the presence of keys is caught as well as one that checks
# nothing.
_WRONG_SCHEMA = json.dumps(
    {
        "report_id": 42,
        "generated_at": ["not", "a", "time"],
        "subject": "nobody",
        "results": {"query_id": None},
        "lists": "none",
        "accepted": "many",
        "duplicates": None,
        "objection_id": False,
        "status": ["?"],
        "sandbox_fault": "wrong_schema",
    }
).encode()
_MALFORMED = b'{"sandbox_fault": "malformed", "report_id": "SBX-'


class FaultMode(StrEnum):
    RESET = "reset"
    TRUNCATE = "truncate"
    MALFORMED = "malformed"
    WRONG_SCHEMA = "wrong_schema"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    OVERSIZED = "oversized"


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; see the module docstring for the semantics.

    Construction validates (``ValueError`` with a plain message): a route of
    :data:`CONTRACT_ROUTES` or ``"*"``; something to do (``status``, ``latency_ms`` or
    ``mode``); ``status`` 400-599 when it is the whole fault, 200-599 with a mode;
    ``times`` >= 1.
    """

    route: str
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    mode: FaultMode | None = None
    times: int | None = None
    size_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.route != "*" and self.route not in CONTRACT_ROUTES:
            raise ValueError(f"route must be '*' or one of {', '.join(CONTRACT_ROUTES)}")
        if self.mode is not None and not isinstance(self.mode, FaultMode):
            object.__setattr__(self, "mode", FaultMode(self.mode))
        if self.status is None and self.mode is None and not self.latency_ms:
            raise ValueError("a fault needs a status, a mode or a latency")
        if self.status is not None:
            low = 400 if self.mode is None else 200
            if not low <= self.status <= 599:
                raise ValueError(f"status must be within {low}-599 here")
        if self.retry_after is not None and not 0 <= self.retry_after <= 86_400:
            raise ValueError("retry_after must be 0-86400 seconds")
        if self.retry_after is not None and self.status is None:
            raise ValueError("retry_after needs a status")
        if not 0 <= self.latency_ms <= _MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be 0-{_MAX_LATENCY_MS}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (omit it for a fault until cleared)")
        if self.size_bytes is not None:
            if self.mode is not FaultMode.OVERSIZED:
                raise ValueError("size_bytes applies to mode 'oversized' only")
            if not 1024 <= self.size_bytes <= _MAX_OVERSIZE_BYTES:
                raise ValueError(f"size_bytes must be 1024-{_MAX_OVERSIZE_BYTES}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build from the admin API's JSON; ``ValueError`` on unknown fields or wrong types."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("route"), str):
            raise ValueError("route is required")
        for name in ("status", "retry_after", "latency_ms", "times", "size_bytes"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer")
        mode = data.get("mode")
        if mode is not None:
            try:
                mode = FaultMode(mode)
            except ValueError:
                modes = ", ".join(m.value for m in FaultMode)
                raise ValueError(f"mode must be one of {modes}") from None
        return cls(**{**data, "mode": mode, "latency_ms": data.get("latency_ms") or 0})

    def to_json(self, remaining: int | None = None) -> dict[str, Any]:
        out = asdict(self)
        out["mode"] = None if self.mode is None else self.mode.value
        if remaining is not None:
            out["remaining"] = remaining
        return out


class FaultTable:
    """The active faults, one per route at most; thread-safe (tests set faults from their own
    thread while the server's loop takes them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, tuple[Fault, int | None]] = {}

    def set(self, fault: Fault) -> None:
        """Replace any fault on the same route."""
        with self._lock:
            self._faults[fault.route] = (fault, fault.times)

    def clear(self, route: str | None = None) -> int:
        """Clear one route's fault, or all; returns how many were cleared."""
        with self._lock:
            if route is None:
                n = len(self._faults)
                self._faults.clear()
                return n
            return 1 if self._faults.pop(route, None) is not None else 0

    def take(self, route: str) -> Fault | None:
        """The fault that applies to one request of ``route`` now, counting it down."""
        with self._lock:
            key = route if route in self._faults else "*" if "*" in self._faults else None
            if key is None:
                return None
            fault, remaining = self._faults[key]
            if remaining is not None:
                if remaining <= 1:
                    del self._faults[key]
                else:
                    self._faults[key] = (fault, remaining - 1)
            return fault

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json(remaining) for f, remaining in self._faults.values()]


# --- responses that misbehave ---------------------------------------------------------------


async def _wait_for_disconnect(receive: Receive) -> None:
    # Returning before the server has noticed the closed connection would make it log
    # "returned without completing response"; the disconnect message is the ASGI way to know.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    return


async def _drain_request(receive: Receive) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return


class AbortConnection(Response):
    """Drop the connection without sending a byte (``mode="reset"``).

    With the sandbox's own server the connection's transport is aborted. Under a server that
    does not hand the transport over (Starlette's ``TestClient``), ``ConnectionResetError`` is
    raised instead, which such a test client re-raises to the test.
    """

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
        if transport is None:
            raise ConnectionResetError("sandbox fault: connection reset")
        # The whole request is read first: a reset that lands while the client is still
        # writing its body surfaces as a write error that httpx reports as a clean
        # disconnect, so the client's error would depend on timing.
        await _drain_request(receive)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: closing sends a TCP RST, always, instead of a FIN or an RST depending
            # on whether the request body had been read: the client sees the same error
            # every time ("connection reset by peer").
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await _wait_for_disconnect(receive)


class TruncatedResponse(Response):
    """Declare the full ``Content-Length``, send half the body, close (``mode="truncate"``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = len(self.body) or 16
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        headers.append((b"content-length", str(declared).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        half = self.body[: declared // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
        if transport is None:
            # Without the transport the only way to stop is to end the exchange unfinished;
            # the server then closes the connection (and may log that the body was short).
            return
        transport.close()  # close() flushes what was written, then sends FIN
        await _wait_for_disconnect(receive)


def _oversized(size: int) -> StreamingResponse:
    head = b'{"sandbox_fault":"oversized","padding":"'
    tail = b'"}'
    pad = size - len(head) - len(tail)
    chunk = b"x" * 65536

    async def body() -> AsyncIterator[bytes]:
        yield head
        left = pad
        while left > 0:
            n = min(left, len(chunk))
            yield chunk[:n]
            left -= n
            # Let the loop run between chunks: when the client hangs up, the server learns it
            # only from a callback, and until then every write fails (and asyncio logs it).
            await asyncio.sleep(0)
        yield tail

    return StreamingResponse(
        body(), media_type="application/json", headers={"Content-Length": str(size)}
    )


def spoil(fault: Fault, response: Response) -> Response:
    """The response ``fault`` (a body mode) makes of the real ``response``."""
    status = fault.status if fault.status is not None else response.status_code
    keep = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "content-type")
    }
    if fault.retry_after is not None:
        keep["Retry-After"] = str(fault.retry_after)
    mode = fault.mode
    if mode is FaultMode.TRUNCATE:
        media = response.headers.get("content-type", "application/json")
        return TruncatedResponse(response.body, status_code=status, headers=keep, media_type=media)
    if mode is FaultMode.MALFORMED:
        return Response(_MALFORMED, status_code=status, headers=keep, media_type="application/json")
    if mode is FaultMode.WRONG_SCHEMA:
        return Response(
            _WRONG_SCHEMA, status_code=status, headers=keep, media_type="application/json"
        )
    if mode is FaultMode.WRONG_CONTENT_TYPE:
        return Response(
            response.body, status_code=status, headers=keep, media_type="text/html; charset=utf-8"
        )
    if mode is FaultMode.OVERSIZED:
        big = _oversized(fault.size_bytes or DEFAULT_OVERSIZE_BYTES)
        big.status_code = status
        for k, v in keep.items():
            big.headers[k] = v
        return big
    raise ValueError(f"mode {mode} does not spoil a response")
