"""A wire-level fake of the credit platform: the platform contract served by respx.

For tests that want HTTP in the loop (the SDK's transport, authentication header, retries,
circuit breaker, list sync and content checks all run) but no server and no network.
:class:`HttpCreditPlatform` answers the contract's endpoints (``docs/platform-contract.md``)
for one fake base URL from the state of a :class:`~credit_sdk.testing.CreditPlatform`: the same
subject builders and the same faults, translated to what a real platform would send (a ``503``,
a timeout, a body that is not JSON). Requests to any other host pass through untouched, so a
test can talk to a real local server at the same time.

>>> from credit_sdk.testing import CreditPlatform, HttpCreditPlatform, fake_uscc
>>> platform = CreditPlatform()
>>> with HttpCreditPlatform(platform) as wire:               # doctest: +SKIP
...     client = wire.client()                              # a CreditClient over HTTP
...     platform.subject(fake_uscc(1)).on_severe_list()
...     decision = client.check(fake_uscc(1), "bidding", ctx)

It needs ``respx`` (the ``testing`` extra: ``pip install 'credit-sdk[testing]'``). Bearer tokens
only; HMAC request signing is for the sandbox (``credit-sdk sandbox``), which verifies
signatures for real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

import httpx

from credit_sdk import (
    CreditSDKError,
    DutyItem,
    FeedbackItem,
    ObjectionRequest,
    PlatformError,
    QueryContext,
    ReportQuery,
    RetryPolicy,
    Scenario,
    parse_identifier,
)
from credit_sdk.testing._platform import PSEUDONYM_KEY, CreditPlatform, _Fault

if TYPE_CHECKING:
    import respx

    from credit_sdk import AsyncCreditClient, CreditClient, Identifier, QueryLog

__all__ = ["HttpCreditPlatform"]

#: ``.localhost`` names resolve to the loopback interface (RFC 6761): even a request the mock
#: did not catch could never leave the machine.
DEFAULT_URL = "http://credit-platform.localhost"
DEFAULT_TOKEN = "credit-sdk-testing-token"  # noqa: S105 (a fake platform's public test token)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Reject(Exception):
    """An answer other than success, raised inside a handler."""

    def __init__(self, status: int, title: str, headers: Mapping[str, str] | None = None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.headers = dict(headers or {})


class HttpCreditPlatform:
    """The platform contract over (mocked) HTTP for one base URL, from a ``CreditPlatform``.

    ``start()`` / ``stop()`` (or ``with``) turn the mock on and off for the whole process, like
    ``respx.mock``; ``client()`` and ``async_client()`` build SDK clients pointed at
    :attr:`url` with :attr:`token` (logging to ``audit`` when given), and ``stop()`` closes the
    ones still open. Faults set on the
    platform become wire answers: ``down`` a ``503`` (with ``Retry-After: 0``), ``timeout`` an
    ``httpx.ReadTimeout``, ``slow`` a real delay, ``malformed`` a ``200`` whose body is not
    JSON, ``refusing`` its status as ``application/problem+json``.

    ``requests`` counts the requests per contract route (``"reports:query"``,
    ``"reports:batchQuery"``, ``"measure-lists"``, ``"feedback"``, ``"objections"``,
    ``"health"``), faulted and refused ones included.
    """

    def __init__(
        self,
        platform: CreditPlatform,
        *,
        url: str = DEFAULT_URL,
        token: str = DEFAULT_TOKEN,
        audit: QueryLog | None = None,
    ) -> None:
        self.platform = platform
        self.audit = audit
        self.url = url.rstrip("/")
        self.token = token
        self.requests: Counter[str] = Counter()
        self._host = httpx.URL(self.url).host
        self._router: respx.MockRouter | None = None
        self._replies: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._clients: list[CreditClient] = []
        self._async_clients: list[AsyncCreditClient] = []

    def __repr__(self) -> str:
        return f"HttpCreditPlatform({self.url!r}, running={self._router is not None})"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start answering requests to :attr:`url` (idempotent)."""
        if self._router is not None:
            return self
        try:
            import respx
        except ImportError as err:  # pragma: no cover - respx is a test dependency
            raise ImportError(
                "credit_platform_http needs respx: pip install 'credit-sdk[testing]'"
            ) from err
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route(host=self._host).mock(side_effect=self._handle)
        # Anything else (a local sandbox, the host's own services) goes out as usual.
        router.route().pass_through()
        router.start()
        self._router = router
        return self

    def stop(self) -> None:
        """Close the clients built here and stop the mock (idempotent)."""
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        async_clients, self._async_clients = self._async_clients, []
        for aclient in async_clients:
            # aclose() is idempotent: a client the test closed in its own loop returns at once.
            asyncio.run(aclient.aclose())
        router, self._router = self._router, None
        if router is not None:
            router.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients -----------------------------------------------------------------------------

    def client(self, *, audit: QueryLog | None = None, **overrides: Any) -> CreditClient:
        """A ``CreditClient`` over HTTP to this fake: lists synced over the wire, no report
        cache, fast retries (no real backoff), deciding on the platform's ``today``. Closed by
        :meth:`stop`."""
        from credit_sdk import CreditClient

        client = CreditClient(**self._options(audit, overrides))
        self._clients.append(client)
        if "catalog" not in overrides:
            # Confirm the lists over the wire now, as a long-running host would have done by
            # its first check, so that decisions do not carry STALE_LISTS.
            client.sync_lists()
        return client

    def async_client(self, *, audit: QueryLog | None = None, **overrides: Any) -> AsyncCreditClient:
        """The async twin of :meth:`client`; prefer ``async with`` in the test's own loop."""
        from credit_sdk import AsyncCreditClient

        client = AsyncCreditClient(**self._options(audit, overrides))
        self._async_clients.append(client)
        return client

    def _default_audit(self) -> QueryLog:
        from credit_sdk import MemoryQueryLog

        return self.audit if self.audit is not None else MemoryQueryLog()

    def _options(self, audit: QueryLog | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
        import tempfile

        options: dict[str, Any] = {
            "base_url": self.url,
            "token": self.token,
            "audit": audit if audit is not None else self._default_audit(),
            "pseudonym_key": PSEUDONYM_KEY,
            "today": lambda: self.platform.today,
            "cache_ttl": 0,
            # Each client keeps its verified lists apart: tests must not share state on disk.
            "lists_dir": tempfile.mkdtemp(prefix="credit-sdk-testing-lists-"),
            "list_sync_interval": None,
            "retry": RetryPolicy(
                max_attempts=3, initial_backoff=0.0, max_backoff=0.0, retry_after_cap=0.0
            ),
            "feedback_poll_interval": 0.05,
        }
        options.update(overrides)
        return options

    # -- the contract ------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        route, handler = self._route(request)
        with self.platform._lock:
            self.requests[route] += 1
            # The same counters as the in-memory protocol, so assertions hold in both modes.
            method = "fetch_list" if handler == self._edition else _METHOD.get(route, route)
            self.platform.calls[method] += 1
        fault = self.platform._take_fault(_FAULT_ROUTE.get(route, "reports"))
        if fault is not None and fault.kind == "slow":
            if _in_event_loop():
                return self._later(fault.seconds, request, handler)
            time.sleep(fault.seconds)
            fault = None
        if fault is not None:
            return self._faulted(fault, request)
        return self._answer(request, handler)

    async def _later(
        self, seconds: float, request: httpx.Request, handler: Callable[[httpx.Request], Any]
    ) -> httpx.Response:
        await asyncio.sleep(seconds)
        return self._answer(request, handler)

    def _answer(
        self, request: httpx.Request, handler: Callable[[httpx.Request], httpx.Response]
    ) -> httpx.Response:
        try:
            if handler != self._health:
                self._authenticate(request)
            return handler(request)
        except _Reject as rejected:
            return _problem(rejected.status, rejected.title, rejected.headers)

    def _route(self, request: httpx.Request) -> tuple[str, Callable[[httpx.Request], Any]]:
        method, path = request.method, request.url.path
        table: dict[tuple[str, str], tuple[str, Callable[[httpx.Request], Any]]] = {
            ("POST", "/v1/reports:query"): ("reports:query", self._query),
            ("POST", "/v1/reports:batchQuery"): ("reports:batchQuery", self._batch_query),
            ("GET", "/v1/measure-lists"): ("measure-lists", self._index),
            ("POST", "/v1/feedback"): ("feedback", self._feedback),
            ("POST", "/v1/objections"): ("objections", self._objections),
            ("POST", "/v1/information:push"): ("information:push", self._duty("push")),
            ("POST", "/v1/information:correct"): (
                "information:correct",
                self._duty("correction"),
            ),
            ("POST", "/v1/information:updateBasis"): (
                "information:updateBasis",
                self._duty("basis_update"),
            ),
            ("GET", "/v1/health"): ("health", self._health),
        }
        found = table.get((method, path))
        if found is not None:
            return found
        if method == "GET" and path.startswith("/v1/measure-lists/"):
            return "measure-lists", self._edition
        return "unknown", self._not_found

    def _faulted(self, fault: _Fault, request: httpx.Request) -> httpx.Response:
        if fault.kind == "timeout":
            raise httpx.ReadTimeout(
                "simulated: the platform did not answer in time", request=request
            )
        if fault.kind == "malformed":
            return httpx.Response(
                200,
                content=b'{"report": {"subject": ',
                headers={"Content-Type": "application/json"},
            )
        if fault.kind == "down":
            return _problem(503, "Service Unavailable (simulated)", {"Retry-After": "0"})
        return _problem(fault.status, "Refused (simulated)")

    def _authenticate(self, request: httpx.Request) -> None:
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            raise _Reject(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})

    @staticmethod
    def _body(request: httpx.Request) -> Any:
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if ctype != "application/json":
            raise _Reject(415, "Unsupported Media Type")
        try:
            return json.loads(request.content or b"null")
        except ValueError:
            raise _Reject(422, "the body is not valid JSON") from None

    def _report_query(self, body: Mapping[str, Any], item: Mapping[str, Any]) -> ReportQuery:
        try:
            subject = item["subject"]
            number = str(subject["number"])
            if subject.get("kind") == "other":
                number = f"{subject['id_type']}:{number}"
            ident: Identifier = parse_identifier(number)
            ctx = QueryContext(
                organ=body["organ"],
                operator=body["operator"],
                matter_code=body["matter_code"],
                purpose=body["purpose"],
            )
            return ReportQuery(
                str(item["query_id"]),
                ident,
                Scenario.parse(body["scenario"]),
                ctx,
                item.get("authorization_id"),
            )
        except (KeyError, TypeError, CreditSDKError):
            # The contract never echoes what was wrong with an identifier.
            raise _Reject(422, "invalid report query") from None

    def _query(self, request: httpx.Request) -> httpx.Response:
        body = self._body(request)
        if not isinstance(body, dict):
            raise _Reject(422, "invalid report query")
        query = self._report_query(body, body)
        try:
            report = self.platform._answer_report(query.subject)
        except PlatformError as err:
            raise _Reject(err.status_code or 503, "no answer for this subject") from None
        self.platform._record_query(query)
        return _json(200, report)

    def _batch_query(self, request: httpx.Request) -> httpx.Response:
        body = self._body(request)
        queries = body.get("queries") if isinstance(body, dict) else None
        if not isinstance(queries, list) or not queries:
            raise _Reject(422, "invalid batch query")
        if len(queries) > 100:
            raise _Reject(413, "a batch holds at most 100 queries")
        results: list[dict[str, Any]] = []
        for item in queries:
            if not isinstance(item, dict):
                raise _Reject(422, "invalid batch query")
            query = self._report_query(body, item)
            try:
                report = self.platform._answer_report(query.subject)
            except PlatformError as err:
                status = err.status_code or 503
                problem = {"title": "no answer for this subject", "status": status}
                results.append({"query_id": query.query_id, "status": status, "problem": problem})
                continue
            self.platform._record_query(query)
            results.append({"query_id": query.query_id, "status": 200, "report": report})
        return _json(200, {"results": results})

    def _index(self, request: httpx.Request) -> httpx.Response:
        index = self.platform._answer_index()
        etag = index.etag or ""
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        lists = [
            {
                "list_id": e.list_id,
                "version": e.version,
                "sha256": e.sha256,
                "kind": e.kind,
                "title": e.title,
                "effective_from": None,
                "effective_until": None,
            }
            for e in index.entries
        ]
        return _json(200, {"lists": lists}, {"ETag": etag})

    def _edition(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        # /v1/measure-lists/{list_id}/versions/{version}
        if len(parts) != 6 or parts[4] != "versions":
            raise _Reject(404, "Not Found")
        try:
            fetched = self.platform._answer_list(parts[3], parts[5])
        except PlatformError:
            raise _Reject(404, "no such list edition") from None
        etag = f'"{fetched.measure_list.sha256}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(
            200, content=fetched.raw, headers={"Content-Type": "application/json", "ETag": etag}
        )

    def _idempotent(
        self, route: str, request: httpx.Request, answer: Callable[[Any], tuple[int, Any]]
    ) -> httpx.Response:
        key = request.headers.get("idempotency-key", "")
        if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
            raise _Reject(422, "Idempotency-Key is required (1-255 visible ASCII characters)")
        body = self._body(request)
        digest = hashlib.sha256(_dumps(body) if body is not None else b"").hexdigest()
        with self.platform._lock:
            seen = self._replies.get((route, key))
        if seen is not None:
            if seen[0] != digest:
                raise _Reject(409, "Idempotency-Key reused with another body")
            return httpx.Response(
                seen[1],
                content=seen[2],
                headers={"Content-Type": "application/json", "Idempotent-Replayed": "true"},
            )
        status, value = answer(body)
        content = _dumps(value)
        with self.platform._lock:
            self._replies[(route, key)] = (digest, status, content)
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    def _feedback(self, request: httpx.Request) -> httpx.Response:
        def answer(body: Any) -> tuple[int, Any]:
            raw_items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= 500:
                raise _Reject(422, "feedback holds 1-500 items")
            try:
                items = [_feedback_item(i) for i in raw_items]
            except (KeyError, TypeError, ValueError, CreditSDKError):
                raise _Reject(422, "invalid feedback item") from None
            ack = self.platform._receive_feedback(items)
            return 202, {"accepted": ack.accepted, "duplicates": ack.duplicates}

        return self._idempotent("feedback", request, answer)

    def _objections(self, request: httpx.Request) -> httpx.Response:
        def answer(body: Any) -> tuple[int, Any]:
            try:
                subject = body["subject"]
                number = str(subject["number"])
                if subject.get("kind") == "other":
                    number = f"{subject['id_type']}:{number}"
                objection = ObjectionRequest(
                    parse_identifier(number),
                    str(body["item_id"]),
                    str(body["reason"]),
                    bool(body["needs_assistance"]),
                    body.get("organ"),
                )
            except (KeyError, TypeError, CreditSDKError):
                raise _Reject(422, "invalid objection") from None
            try:
                ack = self.platform._receive_objection(objection)
            except PlatformError:
                raise _Reject(404, "no such subject or item") from None
            return 201, {
                "objection_id": ack.objection_id,
                "received_on": ack.received_on.isoformat(),
                "status": ack.status,
            }

        return self._idempotent("objections", request, answer)

    def _duty(self, kind: str) -> Callable[[httpx.Request], httpx.Response]:
        route = {"push": "information:push", "correction": "information:correct",
                 "basis_update": "information:updateBasis"}[kind]  # fmt: skip

        def handle(request: httpx.Request) -> httpx.Response:
            key = request.headers.get("Idempotency-Key", "")

            def answer(body: Any) -> tuple[int, Any]:
                try:
                    subject = body.pop("subject")
                    number = str(subject["number"])
                    if subject.get("kind") == "other":
                        number = f"{subject['id_type']}:{number}"
                    if not isinstance(body.get("record_id"), str):
                        raise TypeError("record_id")
                    item = DutyItem(kind, parse_identifier(number), body, key)
                except (AttributeError, KeyError, TypeError, CreditSDKError):
                    raise _Reject(422, f"invalid {kind}") from None
                ack = self.platform._receive_duty(item, key)
                return 201, {"receipt_id": ack.receipt_id, "duplicate": ack.duplicate}

            return self._idempotent(route, request, answer)

        return handle

    def _health(self, request: httpx.Request) -> httpx.Response:
        return _json(
            200, {"status": "ok", "platform": "credit-sdk testing (wire fake)", "version": "1"}
        )

    def _not_found(self, request: httpx.Request) -> httpx.Response:
        return _problem(404, "Not Found")


_METHOD = {
    "reports:query": "query_report",
    "reports:batchQuery": "query_reports",
    "measure-lists": "list_index",
    "feedback": "send_feedback",
    "objections": "file_objection",
    "information:push": "send_duty",
    "information:correct": "send_duty",
    "information:updateBasis": "send_duty",
    "health": "health",
}

_FAULT_ROUTE = {
    "reports:query": "reports",
    "reports:batchQuery": "reports",
    "measure-lists": "lists",
    "feedback": "feedback",
    "objections": "objections",
    "information:push": "duties",
    "information:correct": "duties",
    "information:updateBasis": "duties",
    "health": "health",
}


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _json(status: int, value: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=_dumps(value),
        headers={
            "Content-Type": "application/json",
            "X-Request-Id": _request_id(),
            **(headers or {}),
        },
    )


def _problem(status: int, title: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    request_id = _request_id()
    body = {"type": "about:blank", "title": title, "status": status, "request_id": request_id}
    return httpx.Response(
        status,
        content=_dumps(body),
        headers={
            "Content-Type": "application/problem+json",
            "X-Request-Id": request_id,
            **(headers or {}),
        },
    )


def _request_id() -> str:
    return "fake-" + secrets.token_hex(6)


def _feedback_item(raw: Mapping[str, Any]) -> FeedbackItem:
    amount = raw.get("amount")
    return FeedbackItem(
        query_id=str(raw["query_id"]),
        measure_id=str(raw["measure_id"]),
        applied=bool(raw["applied"]),
        case_id=str(raw["case_id"]),
        implementing_department=str(raw["implementing_department"]),
        occurred_at=dt.datetime.fromisoformat(str(raw["occurred_at"])),
        reason=raw.get("reason"),
        amount=Decimal(str(amount)) if amount is not None else None,
        idempotency_key=str(raw["idempotency_key"]),
    )
