"""Run the sandbox on a real socket: :class:`SandboxServer` for tests and demos, :func:`serve`
for the command line.

Loopback only by default. ``port=0`` takes a free port: the socket is bound before the server
starts, so :attr:`SandboxServer.url` is known at once and nothing races for the port.

>>> with SandboxServer() as sandbox:                       # doctest: +SKIP
...     sandbox.admin.inject_fault("reports:query", status=503, retry_after=1, times=2)
...     httpx.post(sandbox.url + "/v1/reports:query", json=..., headers=sandbox.auth_headers())

The server speaks HTTP/1.1 through uvicorn's h11 protocol, subclassed only to hand each request
the connection's transport (the ``reset`` and ``truncate`` faults need to close a connection,
which ASGI cannot express: an app that fails before answering gets a 500 from the server).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from credit_sdk._signing import sign_request
from credit_sdk.sandbox.app import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_TOKEN,
    SandboxState,
    create_app,
)
from credit_sdk.sandbox.faults import TRANSPORT_EXTENSION
from credit_sdk.sandbox.store import SeededSubject, seeded_subjects

__all__ = ["SandboxAdmin", "SandboxServer", "is_loopback", "make_server"]

log = logging.getLogger("credit_sdk.sandbox")

_START_TIMEOUT = 5.0


class _TransportH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, adding the connection's transport to each request's scope
    extensions (see the module docstring for why)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            extensions = dict(scope.get("extensions") or {})
            extensions[TRANSPORT_EXTENSION] = self.transport
            scope["extensions"] = extensions
            await inner(scope, receive, send)

        self.app = app


def is_loopback(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP, and with Nagle on, a response written as head then body waits ~40 ms for
    # the client's delayed ACK. Setting the option on the listener as well covers platforms
    # where accepted sockets inherit it.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    db: str | Path | None = None,
    token: str | None = None,
    app_id: str | None = None,
    app_secret: bytes | str | None = None,
    seed: bool = True,
    log_level: str = "warning",
) -> tuple[uvicorn.Server, socket.socket, SandboxState]:
    """A configured, not yet running uvicorn server with its bound socket and app state."""
    app = create_app(db, token=token, app_id=app_id, app_secret=app_secret, seed=seed)
    state: SandboxState = app.state.sandbox
    try:
        sock = _bind(host, port)
    except BaseException:
        state.store.close()
        raise
    config = uvicorn.Config(
        app,
        http=_TransportH11Protocol,
        ws="none",
        lifespan="on",
        log_config=None,  # leave the host's logging configuration alone
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config), sock, state


class SandboxServer:
    """The sandbox platform in a background thread, for tests, demos and benchmarks.

    ``start()`` returns once the server accepts connections (well under a second);
    ``stop()`` shuts it down, joins its thread and closes its socket, store and admin client.
    Usable as a context manager. Credentials default to the well-known development ones.

    >>> with SandboxServer() as sandbox:                         # doctest: +SKIP
    ...     sandbox.url, sandbox.token, sandbox.app_id
    ('http://127.0.0.1:40123', 'sandbox-token-not-a-secret', 'sandbox-app')
    ...     sandbox.admin.subjects()[0]["state"]
    'clean'
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path | None = None,
        token: str | None = None,
        app_id: str | None = None,
        app_secret: bytes | str | None = None,
        seed: bool = True,
        log_level: str = "warning",
    ) -> None:
        self._options: dict[str, Any] = {
            "host": host,
            "port": port,
            "db": db,
            "token": token,
            "app_id": app_id,
            "app_secret": app_secret,
            "seed": seed,
            "log_level": log_level,
        }
        self.host = host
        self.token = token or DEFAULT_TOKEN
        self.app_id = app_id or DEFAULT_APP_ID
        secret = DEFAULT_APP_SECRET if app_secret is None else app_secret
        self.app_secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._server: uvicorn.Server | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._state: SandboxState | None = None
        self._admin: SandboxAdmin | None = None
        self._error: BaseException | None = None
        self.port = 0

    def __repr__(self) -> str:
        where = self.url if self._thread is not None else "stopped"
        return f"<SandboxServer {where}>"

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> SandboxState:
        """The app's state (store, faults, authenticator): in-process access for tests."""
        if self._state is None:
            raise RuntimeError("the sandbox is not started")
        return self._state

    @property
    def seeded(self) -> tuple[SeededSubject, ...]:
        """The seeded subjects (see :func:`credit_sdk.sandbox.seeded_subjects`)."""
        return seeded_subjects() if self._options["seed"] else ()

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>`` for this sandbox."""
        return {"Authorization": f"Bearer {self.token}"}

    def signed_headers(
        self,
        method: str,
        path_with_query: str,
        body: bytes = b"",
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, str]:
        """The HMAC signing headers for one request to this sandbox (fresh nonce each call);
        pass the request's ``Idempotency-Key`` when it has one (it is signed)."""
        return sign_request(
            method,
            path_with_query,
            body,
            self.app_id,
            self.app_secret,
            host=httpx.URL(self.url).netloc.decode("ascii"),
            idempotency_key=idempotency_key,
        )

    @property
    def admin(self) -> SandboxAdmin:
        """Helpers over the ``/_sandbox/`` admin API (one HTTP client, closed by ``stop()``)."""
        if self._admin is None:
            if not self.running:
                raise RuntimeError("the sandbox is not started")
            self._admin = SandboxAdmin(self.url, self.token)
        return self._admin

    def start(self) -> SandboxServer:
        if self._thread is not None:
            raise RuntimeError("the sandbox is already started")
        server, sock, state = make_server(**self._options)
        self._server, self._sock, self._state = server, sock, state
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, name=f"credit-sdk-sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                self.stop()
                raise RuntimeError("the sandbox failed to start") from self._error
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start within {_START_TIMEOUT} s")
            time.sleep(0.002)
        return self

    def _run(self) -> None:
        assert self._server is not None
        assert self._sock is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as err:  # reported to start(); a thread must not die silently
            self._error = err
            log.error("sandbox server stopped on %s", type(err).__name__)

    def stop(self) -> None:
        """Stop serving and release everything; safe to call twice."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._state is not None:
            self._state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                # Graceful shutdown is bounded by timeout_graceful_shutdown; this is the backstop.
                assert self._server is not None
                self._server.force_exit = True
                self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._state is not None:
            self._state.store.close()
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SandboxAdmin:
    """Helpers over the sandbox-only ``/_sandbox/`` API, for tests and demos.

    Works against any running sandbox (``SandboxAdmin("http://127.0.0.1:8765", token)``), not
    only a :class:`SandboxServer`. Each helper raises ``httpx.HTTPStatusError`` when the
    sandbox refuses (it is test tooling, not SDK surface).

    >>> admin = SandboxAdmin("http://127.0.0.1:8765", DEFAULT_TOKEN)  # doctest: +SKIP
    >>> admin.inject_fault("feedback", mode="truncate", times=1)      # doctest: +SKIP
    >>> admin.requests()["feedback"]                                  # doctest: +SKIP
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"<SandboxAdmin {self.base_url}>"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SandboxAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    # subjects

    def subjects(self) -> list[dict[str, Any]]:
        """Every subject: ``state``, ``kind``, ``identifier`` (raw, synthetic), ``masked``,
        ``pseudonym``, ``seeded``."""
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/subjects")["subjects"]
        return result

    def set_subject(
        self,
        subject: str | dict[str, str],
        *,
        report: dict[str, Any] | None = None,
        state: str | None = None,
    ) -> dict[str, Any]:
        """Serve ``report`` for ``subject``, or the sample report of ``state`` re-keyed to it;
        ``state="unknown"`` forgets the subject."""
        body: dict[str, Any] = {"subject": subject}
        if report is not None:
            body["report"] = report
        if state is not None:
            body["state"] = state
        result: dict[str, Any] = self._call("PUT", "/_sandbox/subjects", json=body)
        return result

    # faults

    def inject_fault(
        self,
        route: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        mode: str | None = None,
        times: int | None = None,
        size_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Set the fault of ``route`` (see :mod:`credit_sdk.sandbox.faults`)."""
        fields = {
            "route": route,
            "status": status,
            "retry_after": retry_after,
            "latency_ms": latency_ms,
            "mode": mode,
            "times": times,
            "size_bytes": size_bytes,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        result: dict[str, Any] = self._call("POST", "/_sandbox/faults", json=body)["fault"]
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/faults")["faults"]
        return result

    def clear_faults(self, route: str | None = None) -> int:
        params = {"route": route} if route is not None else None
        cleared: int = self._call("DELETE", "/_sandbox/faults", params=params)["cleared"]
        return cleared

    # what the platform received

    def feedback(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/feedback")["items"]
        return result

    def duties(self) -> list[dict[str, Any]]:
        """The organ's duties received (Art. 22 pushes, Art. 52 corrections and basis
        updates), once per idempotency key, in order."""
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/duties")["duties"]
        return result

    def objections(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/objections")["objections"]
        return result

    def checkpoints(self) -> list[dict[str, Any]]:
        """Signed checkpoints of clients' query logs received (each with ``received_at``)."""
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/checkpoints")["checkpoints"]
        return result

    def requests(self) -> dict[str, int]:
        """Requests per contract route since the start or the last reset."""
        counts: dict[str, int] = self._call("GET", "/_sandbox/requests")["counts"]
        return counts

    def reset_requests(self) -> None:
        self._call("DELETE", "/_sandbox/requests")

    # lists and everything

    def publish_list(self, measure_list: dict[str, Any]) -> dict[str, Any]:
        """Publish an extra measure-list edition (the JSON of a list file)."""
        result: dict[str, Any] = self._call("PUT", "/_sandbox/measure-lists", json=measure_list)
        return result

    def reset(self) -> None:
        """Back to the seeded state: subjects, lists, feedback, objections, counters, faults."""
        self._call("POST", "/_sandbox/reset")


class RunningSandbox:
    """A sandbox started elsewhere (``credit-sdk sandbox``), with what demos use of a
    :class:`SandboxServer`: ``url``, ``token``, ``seeded`` and ``admin``."""

    def __init__(self, url: str, token: str) -> None:
        from credit_sdk.sandbox.store import seeded_subjects

        self.url, self.token = url.rstrip("/"), token
        self.seeded = seeded_subjects()
        self.admin = SandboxAdmin(self.url, token)

    def close(self) -> None:
        self.admin.close()


_R = TypeVar("_R")


def run_with_sandbox(fn: Callable[[Any], _R], url: str | None = None, token: str = "") -> _R:
    """Call ``fn(sandbox)`` against the sandbox at ``url``, or against one started on loopback
    for the call and stopped after it: how the examples run on their own.

    >>> run_with_sandbox(lambda sandbox: sandbox.url.startswith("http://127."))  # doctest: +SKIP
    True
    """
    if url:
        running = RunningSandbox(url, token or DEFAULT_TOKEN)
        try:
            return fn(running)
        finally:
            running.close()
    with SandboxServer() as sandbox:
        return fn(sandbox)
