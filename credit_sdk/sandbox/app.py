"""The sandbox platform as a Starlette application: the platform contract over a seeded store.

Implements every endpoint of ``openapi.yaml`` (summarised in ``docs/platform-contract.md``)
plus sandbox-only administration under ``/_sandbox/`` (same credentials; never faulted, never
counted). It is a development server with synthetic data, **not a production platform**, and
says so in its health payload and in an ``X-Credit-Sandbox`` header on every answer.

>>> app = create_app(token="test-token-0123456789")
>>> sorted(route.path for route in app.routes if route.path.startswith("/v1/"))[:3]
['/v1/checkpoints', '/v1/feedback', '/v1/health']
>>> app.state.sandbox.store.close()   # (the app's lifespan does this when it runs)

Everything a client sees: JSON bodies, ``application/problem+json`` errors with a
``request_id``, ``X-Request-Id`` on every response, ``ETag``/``304`` on measure lists,
``Idempotency-Key`` replay on feedback and objections. Logs name subjects by pseudonym only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credit_sdk._errors import CatalogError, InvalidIdentifier, ReportError
from credit_sdk._identifiers import Identifier, parse_identifier
from credit_sdk._models import CreditReport
from credit_sdk._scenarios import Scenario
from credit_sdk._version import __version__
from credit_sdk.sandbox.auth import Authenticator, AuthFailure, Credentials
from credit_sdk.sandbox.faults import AbortConnection, Fault, FaultMode, FaultTable, spoil
from credit_sdk.sandbox.store import (
    IdempotencyConflict,
    ListConflict,
    Store,
    canonical_digest,
    sample_report,
)

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_APP_SECRET",
    "DEFAULT_TOKEN",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_FEEDBACK_ITEMS",
    "NOTICE",
    "SandboxState",
    "create_app",
]

log = logging.getLogger("credit_sdk.sandbox")

# Well-known development credentials, so that `credit-sdk sandbox` and a client on the same
# machine work together without copying secrets around. They protect synthetic data on the
# loopback interface only; the command line refuses them on any other interface.
DEFAULT_TOKEN = "sandbox-token-not-a-secret"  # noqa: S105 - public by design, see above
DEFAULT_APP_ID = "sandbox-app"
DEFAULT_APP_SECRET = b"sandbox-signing-secret-not-a-secret"

NOTICE = (
    "credit-sdk sandbox: a development server with synthetic data. "
    "It is NOT a production credit platform."
)
MAX_BATCH = 100
MAX_FEEDBACK_ITEMS = 500
MAX_BODY_BYTES = 2 * 1024 * 1024

PROBLEM_JSON = "application/problem+json"
_PROBLEM_BASE = "urn:credit-sdk:problem:"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_SANDBOX_HEADER = ("X-Credit-Sandbox", "not-a-production-platform")


# --- request bodies ---------------------------------------------------------------------------
# Mirrors of openapi.yaml's request schemas. Strict (no coercion of "true" into True) but
# tolerant of extra fields, as the document allows: a newer client may send more.

_REQUEST = ConfigDict(strict=True, extra="ignore", hide_input_in_errors=True, frozen=True)
_Text = Annotated[str, Field(min_length=1, max_length=500)]
_Id = Annotated[str, Field(min_length=1, max_length=128)]


class _SubjectRef(BaseModel):
    model_config = _REQUEST
    kind: Literal["resident_id", "uscc", "other"]
    number: str = Field(min_length=1, max_length=64)
    id_type: str | None = Field(default=None, min_length=1, max_length=32)


class _QueryContext(BaseModel):
    model_config = _REQUEST
    scenario: Scenario
    organ: _Text
    operator: _Text
    matter_code: _Text
    purpose: _Text


class _ReportQuery(_QueryContext):
    query_id: _Id
    subject: _SubjectRef
    authorization_id: _Id | None = None


class _BatchItem(BaseModel):
    model_config = _REQUEST
    query_id: _Id
    subject: _SubjectRef
    authorization_id: _Id | None = None


class _BatchQuery(_QueryContext):
    queries: list[_BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class _FeedbackItem(BaseModel):
    model_config = _REQUEST
    query_id: _Id
    measure_id: _Id
    applied: bool
    reason: Annotated[str, Field(max_length=500)] | None = None
    case_id: _Id
    implementing_department: _Text
    occurred_at: dt.datetime
    amount: float | None = None
    idempotency_key: _Id


class _Feedback(BaseModel):
    model_config = _REQUEST
    items: list[_FeedbackItem] = Field(min_length=1, max_length=MAX_FEEDBACK_ITEMS)


class _Document(BaseModel):
    model_config = _REQUEST
    kind: _Id
    number: _Text
    issuer: _Text
    issued_on: dt.date
    effective_on: dt.date


class _Duty(BaseModel):
    model_config = _REQUEST
    subject: _SubjectRef
    record_id: _Id
    category: _Id
    organ: _Text
    due_on: dt.date


class _Push(_Duty):
    summary: str = Field(min_length=1, max_length=2000)
    produced_on: dt.date
    document: _Document


class _Correction(_Duty):
    reason: Literal["wrong", "invalid", "changed"]
    discovered_on: dt.date
    corrected: str = Field(min_length=1, max_length=2000)
    document: _Document | None = None


class _BasisUpdate(_Duty):
    change: Literal["revoked", "confirmed_illegal", "confirmed_invalid", "changed"]
    changed_on: dt.date
    document: _Document


class _Checkpoint(BaseModel):
    model_config = _REQUEST
    v: int = Field(ge=1, le=1, strict=False)
    seq: int = Field(ge=1, le=2**62, strict=False)  # JSON Schema: 464.0 is an integer
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
    key: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")


class _CheckpointRequest(BaseModel):
    model_config = _REQUEST
    checkpoint: _Checkpoint


class _ObjectionRequest(BaseModel):
    model_config = _REQUEST
    subject: _SubjectRef
    item_id: _Id
    reason: str = Field(min_length=1, max_length=2000)
    needs_assistance: bool
    organ: _Text | None = None


# --- state ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SandboxState:
    """What the app's endpoints share (``app.state.sandbox``)."""

    store: Store
    faults: FaultTable
    auth: Authenticator
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set by whoever stops the server: injected latency ends early, so shutdown stays fast."""

    @property
    def credentials(self) -> Credentials:
        return self.auth.credentials


class _Refusal(Exception):
    """Internal flow control: an endpoint refuses with this problem response. It never leaves
    the app (it is turned into the response it carries)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def problem(
    status: int,
    title: str,
    detail: str,
    kind: str,
    request_id: str,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """An ``application/problem+json`` response (RFC 9457) with our ``request_id``."""
    body = {
        "type": _PROBLEM_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    response.headers["X-Request-Id"] = request_id
    return response


def _refuse(status: int, title: str, detail: str, kind: str, request_id: str) -> _Refusal:
    return _Refusal(problem(status, title, detail, kind, request_id))


def _too_large(detail: str, request_id: str) -> _Refusal:
    return _refuse(413, "Content Too Large", detail, "too-large", request_id)


def _longer(value: Any, limit: int) -> bool:
    return isinstance(value, list) and len(value) > limit


def _invalid(detail: str, request_id: str) -> _Refusal:
    return _refuse(422, "Unprocessable Content", detail, "invalid-body", request_id)


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


_M = TypeVar("_M", bound=BaseModel)


def _describe(err: ValidationError) -> str:
    # Locations and messages only: the inputs may hold identifiers and never go back out.
    parts = []
    for item in err.errors(include_input=False, include_url=False, include_context=False)[:5]:
        loc = ".".join(str(p) for p in item["loc"]) or "(body)"
        parts.append(f"{loc}: {item['msg']}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _parse(model: type[_M], body: bytes, request_id: str) -> _M:
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        raise _invalid(_describe(err), request_id) from None


def _identify(ref: _SubjectRef, where: str, request_id: str) -> Identifier:
    try:
        return parse_identifier(ref.number, ref.kind, id_type=ref.id_type)
    except InvalidIdentifier as err:
        raise _invalid(_identifier_detail(err, where), request_id) from None


def _identifier_detail(err: InvalidIdentifier, where: str) -> str:
    # The rule, never the number (not even masked): a problem detail may end up anywhere.
    return f"{where}: not a valid {err.kind or 'identifier'} (rule {err.rule})"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=headers)


def _dumps(data: Any) -> bytes:
    """JSON as ``JSONResponse`` writes it (compact, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_bytes(body: bytes) -> Response:
    """A report answer already encoded (never cached: it is personal data)."""
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


async def _read_body(request: Request, request_id: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(f"bodies are limited to {MAX_BODY_BYTES} bytes", request_id)
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _too_large(f"bodies are limited to {MAX_BODY_BYTES} bytes", request_id)
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if body and content_type and "json" not in content_type.split(";")[0].lower():
        raise _refuse(
            415, "Unsupported Media Type", "send the body as application/json",
            "unsupported-media-type", request_id,
        )  # fmt: skip
    return body


def _targets(request: Request) -> tuple[str, ...]:
    # The client signs the target as sent; a server cannot know whether the client signed the
    # percent-encoded or the decoded spelling, so both are tried (they mean the same thing).
    scope = request.scope
    query = scope.get("query_string", b"")
    suffix = "?" + query.decode("latin-1") if query else ""
    raw = scope.get("raw_path")
    decoded = scope["path"] + suffix
    if not raw:
        return (decoded,)
    as_sent = raw.decode("latin-1") + suffix
    return (as_sent,) if as_sent == decoded else (as_sent, decoded)


def _auth_problem(failure: AuthFailure, request_id: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="credit-sdk sandbox"'}
    return problem(
        failure.status,
        failure.title,
        failure.detail,
        failure.kind,
        request_id,
        headers=headers if failure.status == 401 else None,
    )


_Handler = Callable[[Request, bytes, SandboxState, str], Awaitable[Response]]


async def _handle(
    request: Request, handler: _Handler, state: SandboxState, request_id: str, authenticate: bool
) -> Response:
    try:
        body = await _read_body(request, request_id)
        if authenticate:
            failure = state.auth.check(request.method, _targets(request), body, request.headers)
            if failure is not None:
                log.info("%s refused: %s (request %s)", request.url.path, failure.kind, request_id)
                return _auth_problem(failure, request_id)
        return await handler(request, body, state, request_id)
    except _Refusal as refusal:
        return refusal.response
    except ClientDisconnect:
        # The client hung up (typically after its timeout, during injected latency): this
        # answer goes nowhere, but ending normally keeps the server's log free of tracebacks.
        log.debug("client went away before sending its body (request %s)", request_id)
        return problem(400, "Bad Request", "the client disconnected", "disconnected", request_id)


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _contract(
    route: str, handler: _Handler, *, authenticate: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a contract endpoint: count it, apply the route's fault, authenticate, answer."""

    async def endpoint(request: Request) -> Response:
        state = _state(request)
        request_id = _request_id(request)
        state.store.count(route)
        fault = state.faults.take(route)
        if fault is not None:
            log.info("fault on %s: %s (request %s)", route, fault.to_json(), request_id)
            if fault.latency_ms:
                await _pause(fault.latency_ms / 1000, state.stopping)
            if fault.mode is FaultMode.RESET:
                return AbortConnection()
            if fault.mode is None and fault.status is not None:
                return _fault_status(fault, request_id)
        response = await _handle(request, handler, state, request_id, authenticate)
        if fault is not None and fault.mode is not None:
            response = spoil(fault, response)
        response.headers["X-Request-Id"] = request_id
        return response

    return endpoint


async def _pause(seconds: float, stopping: threading.Event) -> None:
    # Sleep in short steps so that a server being stopped does not wait out (or cancel, and
    # log) a long injected latency.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not stopping.is_set():
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


def _fault_status(fault: Fault, request_id: str) -> Response:
    assert fault.status is not None  # checked by the caller
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return problem(
        fault.status,
        "Injected fault",
        f"the sandbox was told to answer {fault.status} on this route",
        "sandbox-fault",
        request_id,
        headers=headers,
    )


def _admin(handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state = _state(request)
        request_id = _request_id(request)
        response = await _handle(request, handler, state, request_id, True)
        response.headers["X-Request-Id"] = request_id
        return response

    return endpoint


# --- contract endpoints -------------------------------------------------------------------------


async def _report_query(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    query = _parse(_ReportQuery, body, request_id)
    identifier = _identify(query.subject, "subject", request_id)
    report = state.store.report_bytes_for(identifier)
    log.info(
        "reports:query subject=%s scenario=%s (request %s)",
        state.store.pseudonym(identifier)[:16],
        query.scenario.value,
        request_id,
    )
    return _json_bytes(report)


async def _batch_query(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    with contextlib.suppress(ValueError, RecursionError):
        # The size limit is answered before anything else (413, not 422), as the contract says.
        raw = json.loads(body)
        if isinstance(raw, dict) and _longer(raw.get("queries"), MAX_BATCH):
            raise _too_large(f"a batch holds at most {MAX_BATCH} queries", request_id)
    batch = _parse(_BatchQuery, body, request_id)
    # Each item is encoded on its own and the stored reports are served as stored bytes
    # (Store.report_bytes_for): a load test measures the client, not the sandbox.
    results: list[bytes] = []
    for index, item in enumerate(batch.queries):
        try:
            identifier = parse_identifier(
                item.subject.number, item.subject.kind, id_type=item.subject.id_type
            )
        except InvalidIdentifier as err:
            detail = _identifier_detail(err, f"queries.{index}.subject")
            problem = {
                "type": _PROBLEM_BASE + "invalid-body",
                "title": "Unprocessable Content",
                "status": 422,
                "detail": detail,
                "request_id": request_id,
            }
            results.append(_dumps({"query_id": item.query_id, "status": 422, "problem": problem}))
            continue
        report = state.store.report_bytes_for(identifier)
        results.append(
            b'{"query_id":%s,"status":200,"report":%s}' % (_dumps(item.query_id), report)
        )
    log.info(
        "reports:batchQuery queries=%d scenario=%s (request %s)",
        len(results),
        batch.scenario.value,
        request_id,
    )
    return _json_bytes(b'{"results":[' + b",".join(results) + b"]}")


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        tag = tag.removeprefix("W/")
        if tag == "*" or tag == etag:
            return True
    return False


def _with_etag(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _list_index(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    index = json.dumps(
        {"lists": state.store.list_index()}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    etag = '"' + hashlib.sha256(index).hexdigest() + '"'
    return _with_etag(request, index, etag)


async def _list_version(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    list_id = request.path_params["list_id"]
    version = request.path_params["version"]
    found = state.store.list_document(list_id, version)
    if found is None:
        raise _refuse(404, "Not Found", "no such measure list edition", "not-found", request_id)
    document, sha256 = found
    return _with_etag(request, document.encode("utf-8"), f'"{sha256}"')


def _idempotency_key(request: Request, request_id: str) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise _invalid("the Idempotency-Key header is required", request_id)
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise _invalid("Idempotency-Key must be 1-255 visible ASCII characters", request_id)
    return key


def _conflict(request_id: str) -> _Refusal:
    return _refuse(
        409,
        "Conflict",
        "this Idempotency-Key was already used with a different request body",
        "idempotency-key-reused",
        request_id,
    )


def _replay_headers(replayed: bool) -> dict[str, str]:
    return {"Idempotent-Replayed": "true"} if replayed else {}


async def _feedback(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    key = _idempotency_key(request, request_id)
    with contextlib.suppress(ValueError, RecursionError):
        raw = json.loads(body)
        if isinstance(raw, dict) and _longer(raw.get("items"), MAX_FEEDBACK_ITEMS):
            detail = f"a feedback request holds at most {MAX_FEEDBACK_ITEMS} items"
            raise _too_large(detail, request_id)
    feedback = _parse(_Feedback, body, request_id)
    items = [item.model_dump(mode="json") for item in feedback.items]
    try:
        outcome = state.store.record_feedback(key, canonical_digest(json.loads(body)), items)
    except IdempotencyConflict:
        raise _conflict(request_id) from None
    log.info(
        "feedback items=%d accepted=%s replayed=%s (request %s)",
        len(items),
        outcome.body.get("accepted"),
        outcome.replayed,
        request_id,
    )
    return _json(outcome.body, outcome.status, headers=_replay_headers(outcome.replayed))


async def _checkpoint(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    """A signed checkpoint of a client's query log, kept as a witness (the sandbox does not
    know the client's public key: it keeps what it gets, once per key id and position)."""
    key = _idempotency_key(request, request_id)
    parsed = _parse(_CheckpointRequest, body, request_id)
    try:
        outcome = state.store.record_checkpoint(
            key, canonical_digest(json.loads(body)), parsed.checkpoint.model_dump()
        )
    except IdempotencyConflict:
        raise _conflict(request_id) from None
    log.info(
        "checkpoint seq=%d accepted=%s replayed=%s (request %s)",
        parsed.checkpoint.seq,
        outcome.body.get("accepted"),
        outcome.replayed,
        request_id,
    )
    return _json(outcome.body, outcome.status, headers=_replay_headers(outcome.replayed))


async def _objection(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    key = _idempotency_key(request, request_id)
    objection = _parse(_ObjectionRequest, body, request_id)
    identifier = _identify(objection.subject, "subject", request_id)
    try:
        outcome = state.store.file_objection(
            key,
            canonical_digest(json.loads(body)),
            identifier,
            item_id=objection.item_id,
            reason=objection.reason,
            needs_assistance=objection.needs_assistance,
            organ=objection.organ,
        )
    except IdempotencyConflict:
        raise _conflict(request_id) from None
    if outcome.body is None:
        raise _refuse(
            404,
            "Not Found",
            "the platform holds no such item (record_id or membership_id) for this subject",
            "not-found",
            request_id,
        )
    log.info(
        "objection subject=%s replayed=%s (request %s)",
        state.store.pseudonym(identifier)[:16],
        outcome.replayed,
        request_id,
    )
    return _json(outcome.body, outcome.status, headers=_replay_headers(outcome.replayed))


def _duty(route: str, model: type[_Duty]) -> _Handler:
    """An Art. 22 / Art. 52 operation: validate, store once per Idempotency-Key, answer 201
    (or the first answer again, ``duplicate: true``, for a retried delivery)."""

    async def handler(
        request: Request, body: bytes, state: SandboxState, request_id: str
    ) -> Response:
        key = _idempotency_key(request, request_id)
        duty = _parse(model, body, request_id)
        identifier = _identify(duty.subject, "subject", request_id)
        stored = duty.model_dump(mode="json", exclude={"subject"})
        try:
            outcome = state.store.record_duty(
                route, key, canonical_digest(json.loads(body)), identifier, stored
            )
        except IdempotencyConflict:
            raise _conflict(request_id) from None
        log.info(
            "%s subject=%s replayed=%s (request %s)",
            route,
            state.store.pseudonym(identifier)[:16],
            outcome.replayed,
            request_id,
        )
        return _json(outcome.body, outcome.status, headers=_replay_headers(outcome.replayed))

    return handler


async def _health(request: Request, body: bytes, state: SandboxState, request_id: str) -> Response:
    return _json(
        {
            "status": "ok",
            "platform": "credit-sdk sandbox",
            "version": __version__,
            "sandbox": True,
            "production": False,
            "notice": NOTICE,
            "started_at": state.started_at.isoformat(timespec="seconds"),
        }
    )


# --- sandbox-only administration ------------------------------------------------------------


def _json_object(body: bytes, request_id: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _invalid("the body is not JSON", request_id) from None
    if not isinstance(data, dict):
        raise _invalid("the body must be a JSON object", request_id)
    return data


def _admin_identifier(raw: Any, request_id: str) -> Identifier:
    try:
        if isinstance(raw, str):
            return parse_identifier(raw)
        if isinstance(raw, dict):
            ref = _SubjectRef.model_validate_json(json.dumps(raw))
            return parse_identifier(ref.number, ref.kind, id_type=ref.id_type)
    except InvalidIdentifier as err:
        raise _invalid(_identifier_detail(err, "subject"), request_id) from None
    except ValidationError as err:
        raise _invalid(_describe(err), request_id) from None
    raise _invalid("subject must be a string or {kind, number, id_type?}", request_id)


async def _admin_subjects(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    return _json({"subjects": state.store.subjects()})


async def _admin_put_subject(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    data = _json_object(body, request_id)
    identifier = _admin_identifier(data.get("subject"), request_id)
    label = data.get("state")
    if label is not None and not isinstance(label, str):
        raise _invalid("state must be a string", request_id)
    report = data.get("report")
    if report is None:
        if label is None:
            raise _invalid("give a report, a sample state, or state 'unknown'", request_id)
        if label == "unknown":
            deleted = state.store.delete_subject(identifier)
            return _json({"state": "unknown", "masked": identifier.masked, "deleted": deleted})
        try:
            report = sample_report(label)
        except ValueError:
            raise _invalid(f"no sample state {label!r}", request_id) from None
        report["subject"] = {**report["subject"], "identifier": identifier.reveal()}
    if not isinstance(report, dict):
        raise _invalid("report must be a JSON object", request_id)
    try:
        parsed = CreditReport.parse(report)
    except ReportError as err:
        raise _invalid(str(err), request_id) from None
    if parsed.subject.identifier != identifier:
        raise _invalid("the report's subject.identifier is not this subject", request_id)
    pseudonym = state.store.put_subject(identifier, report, state=label or "custom")
    log.info("admin: subject %s set to %s", pseudonym[:16], label or "custom")
    return _json({"state": label or "custom", "masked": identifier.masked, "pseudonym": pseudonym})


async def _admin_publish_list(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    data = _json_object(body, request_id)
    try:
        sha256, created = state.store.publish_list(data)
    except CatalogError as err:
        raise _invalid(str(err), request_id) from None
    except ListConflict as err:
        raise _refuse(409, "Conflict", str(err), "edition-exists", request_id) from None
    answer = {
        "list_id": data.get("list_id"),
        "version": data.get("version"),
        "sha256": sha256,
        "created": created,
    }
    return _json(answer, 201 if created else 200)


async def _admin_set_fault(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    data = _json_object(body, request_id)
    try:
        fault = Fault.from_json(data)
    except (ValueError, TypeError) as err:
        raise _invalid(str(err), request_id) from None
    state.faults.set(fault)
    log.info("admin: fault set %s", fault.to_json())
    return _json({"fault": fault.to_json(fault.times)}, 201)


async def _admin_faults(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    if request.method == "DELETE":
        route = request.query_params.get("route")
        return _json({"cleared": state.faults.clear(route)})
    return _json({"faults": state.faults.active()})


async def _admin_checkpoints(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    return _json({"checkpoints": state.store.checkpoints()})


async def _admin_feedback(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    return _json({"items": state.store.feedback_items()})


async def _admin_duties(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    return _json({"duties": state.store.duties()})


async def _admin_objections(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    return _json({"objections": state.store.objections()})


async def _admin_requests(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    if request.method == "DELETE":
        state.store.reset_counts()
    return _json({"counts": state.store.counts()})


async def _admin_reset(
    request: Request, body: bytes, state: SandboxState, request_id: str
) -> Response:
    state.store.reset()
    cleared = state.faults.clear()
    log.info("admin: reset (faults cleared: %d)", cleared)
    return _json({"reset": True, "subjects": state.store.subject_count()})


def _openapi_text() -> str:
    return (resources.files("credit_sdk.sandbox") / "openapi.yaml").read_text(encoding="utf-8")


async def _openapi(request: Request) -> Response:
    return Response(_openapi_text(), media_type="application/yaml")


async def _root(request: Request) -> Response:
    return _json(
        {
            "platform": "credit-sdk sandbox",
            "notice": NOTICE,
            "health": "/v1/health",
            "openapi": "/_sandbox/openapi.yaml",
        }
    )


# --- errors and assembly ----------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    request_id = _request_id(request)
    titles = {404: "Not Found", 405: "Method Not Allowed"}
    title = titles.get(exc.status_code, "Error")
    detail = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    response = problem(exc.status_code, title, detail, title.lower().replace(" ", "-"), request_id)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    request_id = _request_id(request)
    # The exception's text is not sent: it could hold request data.
    log.error("unhandled %s (request %s)", type(exc).__name__, request_id)
    return problem(500, "Internal Server Error", "the sandbox failed", "internal", request_id)


class _SandboxHeader:
    """Adds the not-a-production-platform marker to every response (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                name, value = _SANDBOX_HEADER
                message["headers"] = [
                    *message.get("headers", []),
                    (name.lower().encode(), value.encode()),
                ]
            await send(message)

        await self.app(scope, receive, marked)


def create_app(
    store_path: str | Path | None = None,
    *,
    token: str | None = None,
    app_id: str | None = None,
    app_secret: bytes | str | None = None,
    seed: bool = True,
) -> Starlette:
    """Build the sandbox app over a store at ``store_path`` (``None``: in memory).

    Credentials default to the well-known development ones (:data:`DEFAULT_TOKEN`,
    :data:`DEFAULT_APP_ID`, :data:`DEFAULT_APP_SECRET`). ``seed=False`` starts with no
    subjects and no measure lists. The store is closed when the app's lifespan ends.

    >>> app = create_app(token="my-test-token")
    >>> app.state.sandbox.credentials.app_id
    'sandbox-app'
    >>> app.state.sandbox.store.close()
    """
    secret = DEFAULT_APP_SECRET if app_secret is None else app_secret
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    credentials = Credentials(
        token=token or DEFAULT_TOKEN, app_id=app_id or DEFAULT_APP_ID, app_secret=secret
    )
    store = Store(store_path, seed=seed)
    state = SandboxState(store=store, faults=FaultTable(), auth=Authenticator(credentials))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    def contract(path: str, route: str, handler: _Handler, **kw: Any) -> Route:
        methods = ["GET"] if route in ("measure-lists", "health") else ["POST"]
        return Route(path, _contract(route, handler, **kw), methods=methods, name=route)

    def admin(path: str, handler: _Handler, methods: list[str]) -> Route:
        return Route(path, _admin(handler), methods=methods)

    routes = [
        contract("/v1/reports:query", "reports:query", _report_query),
        contract("/v1/reports:batchQuery", "reports:batchQuery", _batch_query),
        contract("/v1/measure-lists", "measure-lists", _list_index),
        Route(
            "/v1/measure-lists/{list_id}/versions/{version}",
            _contract("measure-lists", _list_version),
            methods=["GET"],
        ),
        contract("/v1/feedback", "feedback", _feedback),
        contract("/v1/objections", "objections", _objection),
        contract("/v1/information:push", "information:push", _duty("information:push", _Push)),
        contract(
            "/v1/information:correct",
            "information:correct",
            _duty("information:correct", _Correction),
        ),
        contract(
            "/v1/information:updateBasis",
            "information:updateBasis",
            _duty("information:updateBasis", _BasisUpdate),
        ),
        contract("/v1/checkpoints", "checkpoints", _checkpoint),
        contract("/v1/health", "health", _health, authenticate=False),
        admin("/_sandbox/subjects", _admin_subjects, ["GET"]),
        admin("/_sandbox/subjects", _admin_put_subject, ["PUT"]),
        admin("/_sandbox/measure-lists", _admin_publish_list, ["PUT"]),
        admin("/_sandbox/faults", _admin_set_fault, ["POST"]),
        admin("/_sandbox/faults", _admin_faults, ["GET", "DELETE"]),
        admin("/_sandbox/feedback", _admin_feedback, ["GET"]),
        admin("/_sandbox/objections", _admin_objections, ["GET"]),
        admin("/_sandbox/duties", _admin_duties, ["GET"]),
        admin("/_sandbox/checkpoints", _admin_checkpoints, ["GET"]),
        admin("/_sandbox/requests", _admin_requests, ["GET", "DELETE"]),
        admin("/_sandbox/reset", _admin_reset, ["POST"]),
        Route("/_sandbox/openapi.yaml", _openapi, methods=["GET"]),
        Route("/", _root, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.add_middleware(_SandboxHeader)
    app.state.sandbox = state
    return app
