"""The credit platform behind a small protocol, so that other gateways can be adapted.

A provider answers six questions: a report for one subject, reports for a batch, the measure-list
index, one list edition, feedback delivery (Art. 46) and objections (Art. 53), plus health.
:class:`HttpProvider` / :class:`AsyncHttpProvider` speak the platform contract
(``docs/platform-contract.md``) over HTTP; :class:`MemoryProvider` keeps everything in memory so
that host systems can test their own code without a network.

Identifiers never travel in URLs: report queries are ``POST`` bodies.

>>> from credit_sdk import MemoryProvider, parse_identifier
>>> platform = MemoryProvider()
>>> platform.set_report("91230100MA1C2X3Y48", {"report_id": "r1",
...     "generated_at": "2026-11-29T09:00:00+08:00",
...     "subject": {"kind": "legal_person", "identifier": "91230100MA1C2X3Y48"}})
... # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from credit_sdk._audit._types import FeedbackItem, iso
from credit_sdk._catalog import MeasureList
from credit_sdk._errors import (
    CatalogError,
    PlatformError,
    PlatformProtocolError,
    PlatformUnavailable,
    ReportError,
)
from credit_sdk._identifiers import Identifier, OtherId, parse_identifier
from credit_sdk._models import CreditReport, subject_kind_of
from credit_sdk._query import QueryContext
from credit_sdk._scenarios import Scenario
from credit_sdk._transport import AsyncTransport, Response, SyncTransport

__all__ = [
    "DUTY_PATHS",
    "AsyncHttpProvider",
    "AsyncProvider",
    "DutyAck",
    "DutyItem",
    "FeedbackAck",
    "FetchedList",
    "HttpProvider",
    "ListIndex",
    "ListIndexEntry",
    "MemoryProvider",
    "ObjectionAck",
    "ObjectionRequest",
    "Provider",
    "ReportQuery",
]

MAX_BATCH = 100  # the contract's bound on reports:batchQuery
_MAX_INDEX = 1000  # list editions in one index: far above any real catalogue
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LIST_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_JSON = {"Content-Type": "application/json"}


# --- what travels -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """One report query: the query id doubles as the request's idempotency key."""

    query_id: str
    subject: Identifier
    scenario: Scenario
    context: QueryContext
    authorization_id: str | None = None


@dataclass(frozen=True, slots=True)
class ListIndexEntry:
    """One list edition the platform serves, with the sha256 of its canonical content."""

    list_id: str
    version: str
    sha256: str
    kind: str = ""
    title: str = ""
    effective_from: str | None = None
    effective_until: str | None = None


@dataclass(frozen=True, slots=True)
class ListIndex:
    entries: tuple[ListIndexEntry, ...]
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedList:
    """A verified list edition and the exact bytes it was verified from (kept on disk)."""

    measure_list: MeasureList
    raw: bytes


@dataclass(frozen=True, slots=True)
class FeedbackAck:
    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class DutyItem:
    """One of the organ's duties as a provider sends it: its ``kind`` (``push``, Art. 22;
    ``correction``, Art. 52 ¶1; ``basis_update``, Art. 52 ¶3), the subject (handle as personal
    data), the body, and the item's own idempotency key (the platform applies it once)."""

    kind: str
    subject: Identifier
    body: Mapping[str, Any]
    idempotency_key: str

    def __repr__(self) -> str:
        record = self.body.get("record_id")
        return f"DutyItem({self.kind}, {self.subject.masked!r}, {record!r})"


@dataclass(frozen=True, slots=True)
class DutyAck:
    """The platform's answer to a duty (Art. 22 push, Art. 52 correction or basis update):
    its receipt id, and whether it had the item already (the same idempotency key)."""

    receipt_id: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class ObjectionRequest:
    subject: Identifier
    item_id: str
    reason: str
    needs_assistance: bool
    organ: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectionAck:
    objection_id: str
    received_on: dt.date
    status: str


@runtime_checkable
class Provider(Protocol):
    """What a blocking client needs from a platform. Every method raises only
    :class:`~credit_sdk.PlatformError` subclasses for platform trouble."""

    def query_report(self, query: ReportQuery) -> CreditReport: ...

    def query_reports(
        self, queries: Sequence[ReportQuery]
    ) -> list[CreditReport | PlatformError]: ...

    def list_index(self, etag: str | None = None) -> ListIndex | None: ...

    def fetch_list(self, entry: ListIndexEntry) -> FetchedList: ...

    def send_feedback(self, items: Sequence[FeedbackItem], idempotency_key: str) -> FeedbackAck: ...

    def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck: ...

    def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck: ...

    def health(self) -> Mapping[str, Any]: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncProvider(Protocol):
    """The async twin of :class:`Provider`."""

    async def query_report(self, query: ReportQuery) -> CreditReport: ...

    async def query_reports(
        self, queries: Sequence[ReportQuery]
    ) -> list[CreditReport | PlatformError]: ...

    async def list_index(self, etag: str | None = None) -> ListIndex | None: ...

    async def fetch_list(self, entry: ListIndexEntry) -> FetchedList: ...

    async def send_feedback(
        self, items: Sequence[FeedbackItem], idempotency_key: str
    ) -> FeedbackAck: ...

    async def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck: ...

    async def file_objection(
        self, request: ObjectionRequest, idempotency_key: str
    ) -> ObjectionAck: ...

    async def health(self) -> Mapping[str, Any]: ...

    async def aclose(self) -> None: ...


# --- the wire format (pure, shared by both HTTP providers) --------------------------------------


def _subject(ident: Identifier) -> dict[str, str]:
    if isinstance(ident, OtherId):
        return {
            "kind": "other",
            "number": ident.reveal().split(":", 1)[1],
            "id_type": ident.id_type,
        }
    return {"kind": ident.kind.value, "number": ident.reveal()}


def _context(ctx: QueryContext) -> dict[str, str]:
    return {
        "organ": ctx.organ,
        "operator": ctx.operator,
        "matter_code": ctx.matter_code,
        "purpose": ctx.purpose,
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_query(q: ReportQuery) -> bytes:
    body: dict[str, Any] = {
        "query_id": q.query_id,
        "subject": _subject(q.subject),
        "scenario": q.scenario.value,
        **_context(q.context),
    }
    if q.authorization_id is not None:
        body["authorization_id"] = q.authorization_id
    return _dumps(body)


def encode_batch(queries: Sequence[ReportQuery]) -> bytes:
    first = queries[0]
    items = []
    for q in queries:
        item: dict[str, Any] = {"query_id": q.query_id, "subject": _subject(q.subject)}
        if q.authorization_id is not None:
            item["authorization_id"] = q.authorization_id
        items.append(item)
    return _dumps({"scenario": first.scenario.value, **_context(first.context), "queries": items})


def _protocol(what: str, response: Response | None = None) -> PlatformProtocolError:
    return PlatformProtocolError(
        what,
        status_code=response.status if response else None,
        request_id=response.request_id if response else None,
    )


def _load_json(response: Response, what: str) -> Any:
    from credit_sdk._bounded import loads

    return loads(response.content, what=what, error=lambda message: _protocol(message, response))


def check_report(report: CreditReport, query: ReportQuery) -> CreditReport:
    """Refuse a report about somebody else (a platform bug that would mis-decide a case)."""
    if report.subject.identifier != query.subject:
        raise PlatformProtocolError(
            "the platform answered with a report about another subject than the one queried"
        )
    return report


def decode_report(response: Response, query: ReportQuery) -> CreditReport:
    try:
        report = CreditReport.parse(response.content)
    except ReportError as err:
        raise _protocol(f"reports:query: {err}", response) from err
    return check_report(report, query)


def _problem_error(item: Mapping[str, Any], status: int) -> PlatformError:

    from credit_sdk._transport import problem_from

    problem = problem_from(item.get("problem"))
    message = f"reports:batchQuery item: HTTP {status}" + (
        f" ({problem.code})" if problem.code else ""
    )
    extra = {"title": problem.title, "detail": problem.detail, "problem_type": problem.code}
    if status in (408, 429) or status >= 500:
        return PlatformUnavailable(message, status_code=status, **extra)
    return PlatformError(message, status_code=status, **extra)


def decode_batch(
    response: Response, queries: Sequence[ReportQuery]
) -> list[CreditReport | PlatformError]:
    from credit_sdk._bounded import load_flagged
    from credit_sdk._privacy import PROHIBITED_KEYS

    # Decoded within bounds once, and watched for Art. 20 fields by the same walk: the reports
    # in it are neither checked nor (without such a field anywhere) screened again.
    data, flagged = load_flagged(
        response.content,
        what="reports:batchQuery",
        error=lambda message: _protocol(message, response),
        screen=PROHIBITED_KEYS,
    )
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(queries):
        raise _protocol("reports:batchQuery: 'results' does not match the queries", response)
    out: list[CreditReport | PlatformError] = []
    for query, item in zip(queries, results, strict=True):
        if not isinstance(item, dict) or item.get("query_id") != query.query_id:
            raise _protocol("reports:batchQuery: results are not in request order", response)
        status = item.get("status")
        if status == 200:
            report = item.get("report") or {}
            try:
                if isinstance(report, str):  # a report sent as JSON text inside the answer
                    parsed = CreditReport.parse(report)
                else:
                    parsed = CreditReport._from_decoded(report, flagged, report)
                out.append(check_report(parsed, query))
            except ReportError as err:
                failure = _protocol(f"reports:batchQuery item: {err}", response)
                failure.__cause__ = err
                out.append(failure)
            except PlatformProtocolError as err:
                out.append(err)
        elif isinstance(status, int):
            out.append(_problem_error(item, status))
        else:
            out.append(_protocol("reports:batchQuery item without a status", response))
    return out


def decode_index(response: Response) -> ListIndex:
    data = _load_json(response, "measure-lists")
    lists = data.get("lists") if isinstance(data, dict) else None
    if not isinstance(lists, list):
        raise _protocol("measure-lists: 'lists' is missing", response)
    if len(lists) > _MAX_INDEX:
        raise _protocol(f"measure-lists: more than {_MAX_INDEX} entries", response)
    entries = []
    for item in lists:
        if not isinstance(item, dict):
            raise _protocol("measure-lists: an entry is not an object", response)
        try:
            entry = ListIndexEntry(
                list_id=str(item["list_id"]),
                version=str(item["version"]),
                sha256=str(item["sha256"]).lower(),
                kind=str(item.get("kind", "")),
                title=str(item.get("title", "")),
                effective_from=item.get("effective_from"),
                effective_until=item.get("effective_until"),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise _protocol("measure-lists: an entry lacks list_id, version or sha256") from err
        if not _HEX64.fullmatch(entry.sha256):
            raise _protocol("measure-lists: an entry's sha256 is not 64 hex characters")
        # Ids and versions become URL path segments and file names: plain tokens only.
        if not (_LIST_TOKEN.fullmatch(entry.list_id) and _LIST_TOKEN.fullmatch(entry.version)):
            raise _protocol("measure-lists: an entry's list_id or version is not a plain token")
        for name in ("effective_from", "effective_until"):
            value = getattr(entry, name)
            if value is not None and not (isinstance(value, str) and len(value) <= 40):
                raise _protocol(f"measure-lists: an entry's {name} is not a date")
        entries.append(entry)
    return ListIndex(tuple(entries), response.headers.get("etag"))


def verify_list(raw: bytes, entry: ListIndexEntry, etag: str | None = None) -> FetchedList:
    """Parse and validate one edition and check it is exactly the one the index announced."""
    try:
        lst = MeasureList.from_json(raw, source=f"{entry.list_id}@{entry.version}")
    except (CatalogError, ValueError) as err:
        raise PlatformProtocolError(
            f"measure list {entry.list_id}@{entry.version} is not a valid list: {err}"
        ) from err
    if (lst.list_id, lst.version) != (entry.list_id, entry.version):
        raise PlatformProtocolError(
            f"asked for {entry.list_id}@{entry.version}, got {lst.list_id}@{lst.version}"
        )
    tag = (etag or "").strip().removeprefix("W/").strip('"').lower()
    if lst.sha256 != entry.sha256 or (tag and tag != entry.sha256):
        raise PlatformProtocolError(
            f"measure list {entry.list_id}@{entry.version}: sha256 does not match the index; "
            "refusing to switch to it"
        )
    return FetchedList(lst, raw)


def encode_checkpoint(checkpoint: Mapping[str, Any]) -> bytes:
    """``POST /v1/checkpoints``: one signed checkpoint of the query log, for the platform to
    keep as a witness."""
    return _dumps({"checkpoint": dict(checkpoint)})


def decode_checkpoint(response: Response) -> FeedbackAck:
    data = _load_json(response, "checkpoints")
    try:
        return FeedbackAck(int(data["accepted"]), int(data.get("duplicates", 0)))
    except (KeyError, TypeError, ValueError) as err:
        raise _protocol("checkpoints: the answer lacks 'accepted'", response) from err


def encode_feedback(items: Sequence[FeedbackItem]) -> bytes:
    out = []
    for item in items:
        entry: dict[str, Any] = {
            "query_id": item.query_id,
            "measure_id": item.measure_id,
            "applied": item.applied,
            "case_id": item.case_id,
            "implementing_department": item.implementing_department,
            "occurred_at": iso(item.occurred_at),
            "idempotency_key": item.idempotency_key,
        }
        if item.reason is not None:
            entry["reason"] = item.reason
        if item.amount is not None:
            entry["amount"] = str(item.amount)
        out.append(entry)
    return _dumps({"items": out})


def decode_feedback(response: Response) -> FeedbackAck:
    data = _load_json(response, "feedback")
    try:
        return FeedbackAck(int(data["accepted"]), int(data.get("duplicates", 0)))
    except (KeyError, TypeError, ValueError) as err:
        raise _protocol("feedback: the answer lacks 'accepted'", response) from err


#: The contract operation of each duty kind (Art. 22, 52 ¶1, 52 ¶3).
DUTY_PATHS: Mapping[str, str] = {
    "push": "/v1/information:push",
    "correction": "/v1/information:correct",
    "basis_update": "/v1/information:updateBasis",
}


def encode_duty(item: DutyItem) -> bytes:
    return _dumps({"subject": _subject(item.subject), **item.body})


def decode_duty(response: Response, kind: str) -> DutyAck:
    data = _load_json(response, kind)
    try:
        receipt = data["receipt_id"]
        duplicate = data.get("duplicate", False)
    except (KeyError, TypeError, AttributeError) as err:
        raise _protocol(f"{kind}: the answer lacks receipt_id", response) from err
    if (
        not isinstance(receipt, str)
        or not 0 < len(receipt) <= 128
        or not isinstance(duplicate, bool)
    ):
        raise _protocol(f"{kind}: receipt_id or duplicate has the wrong type", response)
    replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
    return DutyAck(receipt, duplicate or replayed)


def encode_objection(request: ObjectionRequest) -> bytes:
    body: dict[str, Any] = {
        "subject": _subject(request.subject),
        "item_id": request.item_id,
        "reason": request.reason,
        "needs_assistance": request.needs_assistance,
    }
    if request.organ is not None:
        body["organ"] = request.organ
    return _dumps(body)


def decode_objection(response: Response) -> ObjectionAck:
    data = _load_json(response, "objections")
    try:
        return ObjectionAck(
            objection_id=str(data["objection_id"]),
            received_on=dt.date.fromisoformat(str(data["received_on"])[:10]),
            status=str(data.get("status", "pending")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise _protocol(
            "objections: the answer lacks objection_id or received_on", response
        ) from err


def decode_health(response: Response) -> Mapping[str, Any]:
    data = _load_json(response, "health")
    if not isinstance(data, dict):
        raise _protocol("health: the answer is not an object", response)
    return data


# --- HTTP ---------------------------------------------------------------------------------------


class HttpProvider:
    """The platform contract over HTTP (blocking).

    >>> from credit_sdk._transport import BearerToken, SyncTransport, TransportConfig
    >>> provider = HttpProvider(SyncTransport(TransportConfig("http://127.0.0.1:8600",
    ...                                                       BearerToken("t"))))
    >>> provider.close()
    """

    def __init__(self, transport: SyncTransport) -> None:
        self.transport = transport

    def query_report(self, query: ReportQuery) -> CreditReport:
        response = self.transport.request(
            "POST",
            "/v1/reports:query",
            body=encode_query(query),
            idempotency_key=query.query_id,
            headers=_JSON,
        )
        return decode_report(response, query)

    def query_reports(self, queries: Sequence[ReportQuery]) -> list[CreditReport | PlatformError]:
        if not 1 <= len(queries) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1-{MAX_BATCH} queries")
        response = self.transport.request(
            "POST",
            "/v1/reports:batchQuery",
            body=encode_batch(queries),
            idempotency_key=_batch_key(queries),
            headers=_JSON,
        )
        return decode_batch(response, queries)

    def list_index(self, etag: str | None = None) -> ListIndex | None:
        headers = {"If-None-Match": etag} if etag else None
        response = self.transport.request("GET", "/v1/measure-lists", headers=headers)
        return None if response.status == 304 else decode_index(response)

    def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        response = self.transport.request("GET", _list_path(entry))
        return verify_list(response.content, entry, response.headers.get("etag"))

    def send_checkpoint(
        self, checkpoint: Mapping[str, Any], idempotency_key: str
    ) -> FeedbackAck:
        """Hand a signed checkpoint of the query log to the platform (a witness)."""
        response = self.transport.request(
            "POST",
            "/v1/checkpoints",
            body=encode_checkpoint(checkpoint),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_checkpoint(response)

    def send_feedback(self, items: Sequence[FeedbackItem], idempotency_key: str) -> FeedbackAck:
        response = self.transport.request(
            "POST",
            "/v1/feedback",
            body=encode_feedback(items),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_feedback(response)

    def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        response = self.transport.request(
            "POST",
            DUTY_PATHS[item.kind],
            body=encode_duty(item),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_duty(response, item.kind)

    def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        response = self.transport.request(
            "POST",
            "/v1/objections",
            body=encode_objection(request),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_objection(response)

    def health(self) -> Mapping[str, Any]:
        return decode_health(self.transport.request("GET", "/v1/health"))

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"HttpProvider({self.transport!r})"


class AsyncHttpProvider:
    """The platform contract over HTTP (async); same wire format as :class:`HttpProvider`."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.transport = transport

    async def query_report(self, query: ReportQuery) -> CreditReport:
        response = await self.transport.request(
            "POST",
            "/v1/reports:query",
            body=encode_query(query),
            idempotency_key=query.query_id,
            headers=_JSON,
        )
        return decode_report(response, query)

    async def query_reports(
        self, queries: Sequence[ReportQuery]
    ) -> list[CreditReport | PlatformError]:
        if not 1 <= len(queries) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1-{MAX_BATCH} queries")
        response = await self.transport.request(
            "POST",
            "/v1/reports:batchQuery",
            body=encode_batch(queries),
            idempotency_key=_batch_key(queries),
            headers=_JSON,
        )
        return decode_batch(response, queries)

    async def list_index(self, etag: str | None = None) -> ListIndex | None:
        headers = {"If-None-Match": etag} if etag else None
        response = await self.transport.request("GET", "/v1/measure-lists", headers=headers)
        return None if response.status == 304 else decode_index(response)

    async def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        response = await self.transport.request("GET", _list_path(entry))
        return verify_list(response.content, entry, response.headers.get("etag"))

    async def send_checkpoint(
        self, checkpoint: Mapping[str, Any], idempotency_key: str
    ) -> FeedbackAck:
        """Hand a signed checkpoint of the query log to the platform (a witness)."""
        response = await self.transport.request(
            "POST",
            "/v1/checkpoints",
            body=encode_checkpoint(checkpoint),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_checkpoint(response)

    async def send_feedback(
        self, items: Sequence[FeedbackItem], idempotency_key: str
    ) -> FeedbackAck:
        response = await self.transport.request(
            "POST",
            "/v1/feedback",
            body=encode_feedback(items),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_feedback(response)

    async def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        response = await self.transport.request(
            "POST",
            DUTY_PATHS[item.kind],
            body=encode_duty(item),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_duty(response, item.kind)

    async def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        response = await self.transport.request(
            "POST",
            "/v1/objections",
            body=encode_objection(request),
            idempotency_key=idempotency_key,
            headers=_JSON,
        )
        return decode_objection(response)

    async def health(self) -> Mapping[str, Any]:
        return decode_health(await self.transport.request("GET", "/v1/health"))

    async def aclose(self) -> None:
        await self.transport.aclose()

    def __repr__(self) -> str:
        return f"AsyncHttpProvider({self.transport!r})"


def _batch_key(queries: Sequence[ReportQuery]) -> str:
    digest = hashlib.sha256("\x1f".join(q.query_id for q in queries).encode()).hexdigest()
    return f"batch-{digest[:48]}"


def _list_path(entry: ListIndexEntry) -> str:
    from urllib.parse import quote

    list_id, version = quote(entry.list_id, safe=""), quote(entry.version, safe="")
    return f"/v1/measure-lists/{list_id}/versions/{version}"


# --- in memory ----------------------------------------------------------------------------------


def _list_raw(value: MeasureList | Mapping[str, Any] | bytes | str) -> bytes:
    if isinstance(value, MeasureList):
        return _dumps(value.model_dump(mode="json", exclude={"sha256"}))
    if isinstance(value, Mapping):
        return _dumps(dict(value))
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class MemoryProvider:
    """An in-memory platform for tests of host systems: no network, full control.

    Subjects it does not know get an empty report (the contract's "nothing against them").
    ``fail_next(error, times=n)`` makes the next ``n`` calls raise ``error`` (fault injection);
    ``queries``, ``feedback`` and ``objections`` record what it received; feedback is deduplicated
    by idempotency key, like the real platform.

    >>> from credit_sdk import MemoryProvider, PlatformUnavailable
    >>> platform = MemoryProvider()
    >>> platform.fail_next(PlatformUnavailable("down"), times=2)
    >>> platform.calls["query_report"]
    0
    """

    def __init__(
        self,
        reports: Mapping[str | Identifier, CreditReport | Mapping[str, Any]] | None = None,
        *,
        lists: Sequence[MeasureList | Mapping[str, Any] | bytes | str] = (),
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._lock = threading.Lock()
        self._today = today  # the platform's date for objection receipts
        self._reports: dict[Identifier, CreditReport] = {}
        self._lists: dict[tuple[str, str], FetchedList] = {}
        self._failures: list[PlatformError] = []
        self.queries: list[ReportQuery] = []
        self.feedback: dict[str, FeedbackItem] = {}
        self.feedback_requests: list[str] = []
        #: Signed checkpoints of the query log this platform witnessed (their JSON objects).
        self.checkpoints: list[dict[str, Any]] = []
        self.objections: list[ObjectionRequest] = []
        #: Art. 22 pushes and Art. 52 corrections and basis updates, by idempotency key (the
        #: first one received for each key; a repeat is answered as a duplicate).
        self.duties: dict[str, DutyItem] = {}
        self.calls: Counter[str] = Counter()
        self._generated = 0
        for subject, report in (reports or {}).items():
            self.set_report(subject, report)
        self.set_lists(lists)

    # -- setup ---------------------------------------------------------------------------------

    def set_report(
        self, subject: str | Identifier, report: CreditReport | Mapping[str, Any]
    ) -> None:
        """Make the platform answer ``report`` for ``subject``."""
        ident = parse_identifier(subject)
        parsed = report if isinstance(report, CreditReport) else CreditReport.parse(dict(report))
        with self._lock:
            self._reports[ident] = parsed

    def set_lists(self, lists: Sequence[MeasureList | Mapping[str, Any] | bytes | str]) -> None:
        """Replace the list editions the platform serves."""
        fetched = {}
        for value in lists:
            raw = _list_raw(value)
            lst = MeasureList.from_json(raw)
            fetched[(lst.list_id, lst.version)] = FetchedList(lst, raw)
        with self._lock:
            self._lists = fetched

    def fail_next(self, error: PlatformError, *, times: int = 1) -> None:
        """Raise ``error`` from the next ``times`` calls (any method)."""
        with self._lock:
            self._failures.extend([error] * times)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def _enter(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure

    def _report_for(self, query: ReportQuery) -> CreditReport:
        with self._lock:
            self.queries.append(query)
            found = self._reports.get(query.subject)
            self._generated += 1
            n = self._generated
        if found is not None:
            return found
        kind = subject_kind_of(query.subject).value
        return CreditReport.parse(
            {
                "report_id": f"memory-{n}",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(),
                "subject": {"kind": kind, "identifier": query.subject.reveal()},
            }
        )

    # -- the protocol ----------------------------------------------------------------------------

    def query_report(self, query: ReportQuery) -> CreditReport:
        self._enter("query_report")
        return self._report_for(query)

    def query_reports(self, queries: Sequence[ReportQuery]) -> list[CreditReport | PlatformError]:
        if not 1 <= len(queries) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1-{MAX_BATCH} queries")
        self._enter("query_reports")
        return [self._report_for(q) for q in queries]

    def list_index(self, etag: str | None = None) -> ListIndex | None:
        self._enter("list_index")
        with self._lock:
            entries = tuple(
                ListIndexEntry(
                    f.measure_list.list_id,
                    f.measure_list.version,
                    f.measure_list.sha256,
                    f.measure_list.kind.value,
                    f.measure_list.title,
                )
                for f in sorted(self._lists.values(), key=lambda f: f.measure_list.ref)
            )
        tag = '"' + hashlib.sha256(repr([e.sha256 for e in entries]).encode()).hexdigest() + '"'
        return None if etag == tag else ListIndex(entries, tag)

    def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        self._enter("fetch_list")
        with self._lock:
            found = self._lists.get((entry.list_id, entry.version))
        if found is None:
            raise PlatformError(f"no list {entry.list_id}@{entry.version}", status_code=404)
        return verify_list(found.raw, entry)

    def send_checkpoint(
        self, checkpoint: Mapping[str, Any], idempotency_key: str
    ) -> FeedbackAck:
        """Keep a signed checkpoint (in :attr:`checkpoints`), once per seq and key id."""
        self._enter("send_checkpoint")
        with self._lock:
            ident = (checkpoint.get("key"), checkpoint.get("seq"))
            if any((c.get("key"), c.get("seq")) == ident for c in self.checkpoints):
                return FeedbackAck(0, 1)
            self.checkpoints.append(dict(checkpoint))
        return FeedbackAck(1, 0)

    def send_feedback(self, items: Sequence[FeedbackItem], idempotency_key: str) -> FeedbackAck:
        self._enter("send_feedback")
        with self._lock:
            self.feedback_requests.append(idempotency_key)
            duplicates = sum(1 for i in items if i.idempotency_key in self.feedback)
            for item in items:
                self.feedback.setdefault(item.idempotency_key, item)
        return FeedbackAck(len(items) - duplicates, duplicates)

    def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        self._enter("send_duty")
        with self._lock:
            duplicate = idempotency_key in self.duties
            self.duties.setdefault(idempotency_key, item)
            number = list(self.duties).index(idempotency_key) + 1
        return DutyAck(f"DUTY-{number:06d}", duplicate)

    def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        self._enter("file_objection")
        with self._lock:
            self.objections.append(request)
            number = len(self.objections)
        return ObjectionAck(f"OBJ-{number:06d}", self._today(), "pending")

    def health(self) -> Mapping[str, Any]:
        self._enter("health")
        return {"status": "ok", "platform": "memory", "version": "1"}

    def close(self) -> None:
        """Nothing to release."""

    def as_async(self) -> AsyncProvider:
        """This provider behind the async protocol (for :class:`~credit_sdk.AsyncCreditClient`)."""
        return _AsyncMemory(self)

    def __repr__(self) -> str:
        return f"MemoryProvider(subjects={len(self._reports)}, lists={len(self._lists)})"


class _AsyncMemory:
    """:class:`MemoryProvider` behind :class:`AsyncProvider`; it never blocks, so no thread."""

    def __init__(self, inner: MemoryProvider) -> None:
        self.inner = inner

    async def query_report(self, query: ReportQuery) -> CreditReport:
        return self.inner.query_report(query)

    async def query_reports(
        self, queries: Sequence[ReportQuery]
    ) -> list[CreditReport | PlatformError]:
        return self.inner.query_reports(queries)

    async def list_index(self, etag: str | None = None) -> ListIndex | None:
        return self.inner.list_index(etag)

    async def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        return self.inner.fetch_list(entry)

    async def send_checkpoint(
        self, checkpoint: Mapping[str, Any], idempotency_key: str
    ) -> FeedbackAck:
        return self.inner.send_checkpoint(checkpoint, idempotency_key)

    async def send_feedback(
        self, items: Sequence[FeedbackItem], idempotency_key: str
    ) -> FeedbackAck:
        return self.inner.send_feedback(items, idempotency_key)

    async def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        return self.inner.send_duty(item, idempotency_key)

    async def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        return self.inner.file_objection(request, idempotency_key)

    async def health(self) -> Mapping[str, Any]:
        return self.inner.health()

    async def aclose(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"{self.inner!r}.as_async()"
