"""An in-memory credit platform for testing the systems that embed the SDK.

:class:`CreditPlatform` implements the SDK's provider protocol (and its async twin through
:meth:`CreditPlatform.as_async`), so a ``CreditClient(provider=platform, ...)`` runs every step
of a real check (identifier parsing, query guard, query log, decision, feedback outbox) without
a network. Subjects are set up with readable builders, faults with one call each:

>>> from credit_sdk.testing import CreditPlatform, fake_uscc
>>> platform = CreditPlatform()
>>> _ = platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
>>> platform.down(times=1)            # the next call fails as an unreachable platform would
>>> platform.up()                     # and everything works again

It records what it received (``queries``, ``feedback``, ``objections``, ``calls``) for tests to
assert on. The same state is served over HTTP by :class:`~credit_sdk.testing.HttpCreditPlatform`.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from credit_sdk import (
    AsyncProvider,
    Catalog,
    CreditReport,
    Decision,
    DutyAck,
    DutyItem,
    FeedbackAck,
    FeedbackItem,
    FetchedList,
    Identifier,
    ListIndex,
    ListIndexEntry,
    MeasureList,
    ObjectionAck,
    ObjectionRequest,
    PlatformError,
    PlatformProtocolError,
    PlatformUnavailable,
    ReportQuery,
    parse_identifier,
)
from credit_sdk.testing._builders import SubjectBuilder

if TYPE_CHECKING:
    from credit_sdk import AsyncCreditClient, CreditClient, QueryLog

__all__ = ["PSEUDONYM_KEY", "ROUTES", "CreditPlatform"]

#: The pseudonym key of the clients the testing helpers build. Public on purpose: it keys test
#: data only, and a fixed key makes pseudonyms in a test's query log reproducible.
PSEUDONYM_KEY = b"credit-sdk.testing pseudonym key"

#: Routes a fault can be limited to, named after the platform contract's endpoints.
ROUTES = frozenset(
    {"reports", "lists", "feedback", "objections", "duties", "checkpoints", "health"}
)

_MAX_BATCH = 100  # the contract's bound on reports:batchQuery
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(slots=True)
class _Fault:
    kind: str  # down | timeout | slow | malformed | refusing
    routes: frozenset[str]
    remaining: int | None
    seconds: float = 0.0
    status: int = 503


def _routes(route: str | Iterable[str] | None) -> frozenset[str]:
    if route is None:
        return ROUTES
    names = frozenset([route] if isinstance(route, str) else route)
    unknown = names - ROUTES
    if unknown:
        raise ValueError(f"unknown route(s) {sorted(unknown)}; routes are {sorted(ROUTES)}")
    return names


def _list_bytes(lst: MeasureList) -> bytes:
    # The canonical form the list's sha256 is computed over (MeasureList.from_json verifies it).
    body = lst.model_dump(mode="json", exclude={"sha256"})
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class CreditPlatform:
    """An in-memory credit platform: subjects built in the test, faults on demand.

    ``today`` is the platform's date: builders count back from it, and clients built by
    :meth:`client` decide on it (pass ``today=`` for a fixed date; default: today in China,
    the date the SDK's clients decide on).
    ``lists`` are the measure-list editions it serves (default: the lists shipped with the SDK).

    >>> import datetime as dt
    >>> CreditPlatform(today=dt.date(2026, 11, 29)).today
    datetime.date(2026, 11, 29)
    """

    def __init__(
        self,
        *,
        today: dt.date | None = None,
        lists: Sequence[MeasureList] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._today = today
        self._catalog = Catalog(tuple(lists)) if lists is not None else Catalog.default()
        self._lists: dict[tuple[str, str], FetchedList] = {}
        for lst in self._catalog.lists:
            raw = _list_bytes(lst)
            # Served as these exact bytes, announced with the sha256 they verify to.
            served = MeasureList.from_json(raw)
            self._lists[(lst.list_id, lst.version)] = FetchedList(served, raw)
        self._subjects: dict[Identifier, SubjectBuilder] = {}
        self._reports: dict[Identifier, dict[str, Any]] = {}
        self._subject_faults: dict[Identifier, PlatformError] = {}
        self._faults: list[_Fault] = []
        self._feedback_keys: set[str] = set()
        self._counter = 0
        #: Every report query received (single and batched), in order.
        self.queries: list[ReportQuery] = []
        #: Every feedback item received, once each (the platform deduplicates by item key).
        self.feedback: list[FeedbackItem] = []
        #: Signed checkpoints of the query log this platform witnessed (their JSON objects).
        self.checkpoints: list[dict[str, Any]] = []
        #: Every objection received.
        self.objections: list[ObjectionRequest] = []
        #: The organ's duties received (Art. 22 pushes, Art. 52 corrections and basis
        #: updates), once each by idempotency key, in order.
        self.duties: list[DutyItem] = []
        self._duty_keys: dict[str, str] = {}
        #: Calls per protocol method (faulted ones included).
        self.calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (
            f"CreditPlatform(subjects={len(self._reports)}, faults={len(self._faults)}, "
            f"today={self.today.isoformat()})"
        )

    # -- setup ---------------------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        """The platform's date: the one set, else today in China (UTC+8), as the clients'."""
        return self._today or dt.datetime.now(_CHINA).date()

    @today.setter
    def today(self, value: dt.date) -> None:
        self._today = value

    @property
    def catalog(self) -> Catalog:
        """The measure lists this platform serves, as a catalog a client can pin."""
        return self._catalog

    def subject(self, identifier: str | Identifier) -> SubjectBuilder:
        """The builder of one subject's report (the same builder every time for a subject).

        A subject nobody built gets an empty report, like on the real platform.
        """
        ident = parse_identifier(identifier)
        with self._lock:
            builder = self._subjects.get(ident)
            if builder is None:
                builder = SubjectBuilder(self, ident)
                self._subjects[ident] = builder
                builder.clean()
            return builder

    def unavailable_for(self, identifier: str | Identifier) -> None:
        """Fail the report queries of one subject only, until :meth:`up` (a batch still
        answers the other subjects, as the contract's per-item status allows)."""
        with self._lock:
            self._subject_faults[parse_identifier(identifier)] = PlatformUnavailable(
                "the credit platform could not answer for this subject (simulated)", status_code=503
            )

    # -- faults ----------------------------------------------------------------------------

    def down(self, *, times: int | None = None, route: str | Iterable[str] | None = None) -> None:
        """The platform is unreachable: calls fail with ``PlatformUnavailable`` (a client under
        the default failure policy decides ``INDETERMINATE``). ``times``: for the next n calls
        only; ``route``: only ``"reports"``, ``"feedback"``, ``"objections"``, ``"lists"`` or
        ``"health"``."""
        self._add(_Fault("down", _routes(route), times))

    def timeout(
        self, *, times: int | None = None, route: str | Iterable[str] | None = None
    ) -> None:
        """Answers come later than any read timeout: the client sees a timeout at once (no
        real waiting; use :meth:`slow` for a real delay)."""
        self._add(_Fault("timeout", _routes(route), times))

    def slow(
        self,
        seconds: float,
        *,
        times: int | None = None,
        route: str | Iterable[str] | None = None,
    ) -> None:
        """Answers take ``seconds`` longer (a real delay: keep it short in tests)."""
        if seconds < 0:
            raise ValueError("seconds may not be negative")
        self._add(_Fault("slow", _routes(route), times, seconds=seconds))

    def malformed(
        self, *, times: int | None = None, route: str | Iterable[str] | None = None
    ) -> None:
        """Answers break the contract (a body that is not valid JSON): the client sees a
        ``PlatformProtocolError`` and fails closed."""
        self._add(_Fault("malformed", _routes(route), times))

    def refusing(
        self,
        status: int = 403,
        *,
        times: int | None = None,
        route: str | Iterable[str] | None = None,
    ) -> None:
        """The platform refuses requests with ``status`` (e.g. 401, 403, 422)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        self._add(_Fault("refusing", _routes(route), times, status=status))

    def up(self) -> None:
        """Clear every fault: the platform answers normally again."""
        with self._lock:
            self._faults.clear()
            self._subject_faults.clear()

    def _add(self, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.insert(0, fault)  # the latest fault wins

    def _take_fault(self, route: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if route in fault.routes:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _enter(self, method: str, route: str) -> float:
        """Count the call and apply a fault: raise it, or return the delay to wait first."""
        with self._lock:
            self.calls[method] += 1
        fault = self._take_fault(route)
        if fault is None:
            return 0.0
        if fault.kind == "slow":
            return fault.seconds
        raise _fault_error(fault)

    # -- what tests assert on ----------------------------------------------------------------

    def feedback_for(self, decision: Decision) -> list[FeedbackItem]:
        """The feedback items received for one decision (matched by its query id)."""
        with self._lock:
            return [item for item in self.feedback if item.query_id == decision.query_id]

    def report_json(self, identifier: str | Identifier) -> dict[str, Any]:
        """The report JSON served for a subject now (an empty report when it is unknown)."""
        return self._answer_report(parse_identifier(identifier))

    # -- answers shared by the in-memory protocol and the HTTP fake ----------------------------

    def _next(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-TEST-{self._counter:04d}"

    def _store(self, ident: Identifier, report: dict[str, Any]) -> None:
        with self._lock:
            self._reports[ident] = report

    def _answer_report(self, ident: Identifier) -> dict[str, Any]:
        with self._lock:
            failure = self._subject_faults.get(ident)
            stored = self._reports.get(ident)
        if failure is not None:
            raise failure
        if stored is None:
            # Unknown to the platform: an empty report, as the contract says.
            stored = self.subject(ident).report
        report = copy.deepcopy(stored)
        # The contract: a fresh report id per query, generated at the time of the query.
        report["report_id"] = self._next("RPT")
        report["generated_at"] = dt.datetime.now(dt.UTC).isoformat()
        return report

    def _record_query(self, query: ReportQuery) -> None:
        with self._lock:
            self.queries.append(query)

    def _answer_index(self) -> ListIndex:
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
        digest = hashlib.sha256("\n".join(e.sha256 for e in entries).encode()).hexdigest()
        return ListIndex(entries, f'"{digest}"')

    def _answer_list(self, list_id: str, version: str) -> FetchedList:
        found = self._lists.get((list_id, version))
        if found is None:
            raise PlatformError(f"no measure list {list_id}@{version}", status_code=404)
        return found

    def _receive_checkpoint(self, checkpoint: Mapping[str, Any]) -> FeedbackAck:
        with self._lock:
            ident = (checkpoint.get("key"), checkpoint.get("seq"))
            if any((c.get("key"), c.get("seq")) == ident for c in self.checkpoints):
                return FeedbackAck(0, 1)
            self.checkpoints.append(dict(checkpoint))
        return FeedbackAck(1, 0)

    def _receive_feedback(self, items: Sequence[FeedbackItem]) -> FeedbackAck:
        duplicates = 0
        with self._lock:
            for item in items:
                if item.idempotency_key in self._feedback_keys:
                    duplicates += 1
                    continue
                self._feedback_keys.add(item.idempotency_key)
                self.feedback.append(item)
        return FeedbackAck(len(items) - duplicates, duplicates)

    def _receive_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        with self._lock:
            known = self._duty_keys.get(idempotency_key)
            if known is not None:
                return DutyAck(known, duplicate=True)
            self._counter += 1
            receipt = f"DUTY-{self._counter:06d}"
            self._duty_keys[idempotency_key] = receipt
            self.duties.append(item)
        return DutyAck(receipt)

    def duties_for(self, subject: str | Identifier) -> list[DutyItem]:
        """The duties received about one subject, in order."""
        ident = subject if isinstance(subject, Identifier) else parse_identifier(subject)
        with self._lock:
            return [d for d in self.duties if d.subject == ident]

    def _receive_objection(self, request: ObjectionRequest) -> ObjectionAck:
        with self._lock:
            report = self._reports.get(request.subject)
            items = []
            if report is not None:
                items = [
                    *(r for r in report["records"] if r["record_id"] == request.item_id),
                    *(
                        m
                        for m in report["list_memberships"]
                        if m["membership_id"] == request.item_id
                    ),
                ]
            if not items:
                raise PlatformError("no such subject or item to object to", status_code=404)
            objection_id = self._next("OBJ")
            # The contract: the platform labels the item at once (Art. 53 ¶2), so the next
            # report shows the objection as pending.
            for item in items:
                item["objection"] = {
                    "objection_id": objection_id,
                    "filed_on": self.today.isoformat(),
                    "labelled_on": self.today.isoformat(),
                    "status": "pending",
                    "needs_assistance": request.needs_assistance,
                }
            self.objections.append(request)
        return ObjectionAck(objection_id, self.today, "pending")

    # -- the provider protocol -------------------------------------------------------------

    def query_report(self, query: ReportQuery) -> CreditReport:
        _wait(self._enter("query_report", "reports"))
        return self._report_for(query)

    def query_reports(self, queries: Sequence[ReportQuery]) -> list[CreditReport | PlatformError]:
        if not 1 <= len(queries) <= _MAX_BATCH:
            raise ValueError(f"a batch holds 1-{_MAX_BATCH} queries")
        _wait(self._enter("query_reports", "reports"))
        return self._batch(queries)

    def list_index(self, etag: str | None = None) -> ListIndex | None:
        _wait(self._enter("list_index", "lists"))
        index = self._answer_index()
        return None if etag is not None and etag == index.etag else index

    def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        _wait(self._enter("fetch_list", "lists"))
        return self._answer_list(entry.list_id, entry.version)

    def send_checkpoint(self, checkpoint: Mapping[str, Any], idempotency_key: str) -> FeedbackAck:
        _wait(self._enter("send_checkpoint", "checkpoints"))
        return self._receive_checkpoint(checkpoint)

    def send_feedback(self, items: Sequence[FeedbackItem], idempotency_key: str) -> FeedbackAck:
        _wait(self._enter("send_feedback", "feedback"))
        return self._receive_feedback(items)

    def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        _wait(self._enter("send_duty", "duties"))
        return self._receive_duty(item, idempotency_key)

    def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        _wait(self._enter("file_objection", "objections"))
        return self._receive_objection(request)

    def health(self) -> Mapping[str, Any]:
        _wait(self._enter("health", "health"))
        return {"status": "ok", "platform": "credit-sdk testing platform", "production": False}

    def close(self) -> None:
        """Nothing to release (the platform outlives the clients that use it)."""

    def as_async(self) -> AsyncProvider:
        """This platform behind the async protocol (what ``AsyncCreditClient`` calls)."""
        return _AsyncCreditPlatform(self)

    def _report_for(self, query: ReportQuery) -> CreditReport:
        self._record_query(query)
        return CreditReport.parse(self._answer_report(query.subject))

    def _batch(self, queries: Sequence[ReportQuery]) -> list[CreditReport | PlatformError]:
        out: list[CreditReport | PlatformError] = []
        for query in queries:
            try:
                out.append(self._report_for(query))
            except PlatformError as err:
                out.append(err)
        return out

    # -- clients wired to this platform ----------------------------------------------------

    def client(self, *, audit: QueryLog | None = None, **overrides: Any) -> CreditClient:
        """A ``CreditClient`` on this platform: shipped lists pinned (no sync), no report cache
        (so a builder call shows in the next check), deciding on :attr:`today`. Close it."""
        from credit_sdk import CreditClient

        return CreditClient(**self._client_options(audit, overrides))

    def async_client(self, *, audit: QueryLog | None = None, **overrides: Any) -> AsyncCreditClient:
        """The async twin of :meth:`client` (close it with ``await client.aclose()``)."""
        from credit_sdk import AsyncCreditClient

        return AsyncCreditClient(**self._client_options(audit, overrides))

    def _client_options(self, audit: QueryLog | None, overrides: Mapping[str, Any]) -> Any:
        from credit_sdk import MemoryQueryLog

        options: dict[str, Any] = {
            "provider": self,
            "audit": audit if audit is not None else MemoryQueryLog(),
            "pseudonym_key": PSEUDONYM_KEY,
            "catalog": self._catalog,
            "today": lambda: self.today,
            "cache_ttl": 0,
            "feedback_poll_interval": 0.05,
        }
        options.update(overrides)
        return options


def _fault_error(fault: _Fault) -> PlatformError:
    if fault.kind == "down":
        return PlatformUnavailable("the credit platform is down (simulated)", status_code=503)
    if fault.kind == "timeout":
        return PlatformUnavailable("the credit platform timed out (simulated)")
    if fault.kind == "malformed":
        return PlatformProtocolError("the answer is not valid JSON (simulated)", status_code=200)
    if fault.status in (408, 429) or fault.status >= 500:
        return PlatformUnavailable(
            f"HTTP {fault.status} (simulated refusal)", status_code=fault.status
        )
    return PlatformError(f"HTTP {fault.status} (simulated refusal)", status_code=fault.status)


def _wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


class _AsyncCreditPlatform:
    """:class:`CreditPlatform` behind the async protocol; a slow fault waits with
    ``asyncio.sleep`` so the event loop keeps running."""

    def __init__(self, inner: CreditPlatform) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"{self.inner!r}.as_async()"

    async def _enter(self, method: str, route: str) -> None:
        delay = self.inner._enter(method, route)
        if delay > 0:
            await asyncio.sleep(delay)

    async def query_report(self, query: ReportQuery) -> CreditReport:
        await self._enter("query_report", "reports")
        return self.inner._report_for(query)

    async def query_reports(
        self, queries: Sequence[ReportQuery]
    ) -> list[CreditReport | PlatformError]:
        if not 1 <= len(queries) <= _MAX_BATCH:
            raise ValueError(f"a batch holds 1-{_MAX_BATCH} queries")
        await self._enter("query_reports", "reports")
        return self.inner._batch(queries)

    async def list_index(self, etag: str | None = None) -> ListIndex | None:
        await self._enter("list_index", "lists")
        index = self.inner._answer_index()
        return None if etag is not None and etag == index.etag else index

    async def fetch_list(self, entry: ListIndexEntry) -> FetchedList:
        await self._enter("fetch_list", "lists")
        return self.inner._answer_list(entry.list_id, entry.version)

    async def send_checkpoint(
        self, checkpoint: Mapping[str, Any], idempotency_key: str
    ) -> FeedbackAck:
        await self._enter("send_checkpoint", "checkpoints")
        return self.inner._receive_checkpoint(checkpoint)

    async def send_feedback(
        self, items: Sequence[FeedbackItem], idempotency_key: str
    ) -> FeedbackAck:
        await self._enter("send_feedback", "feedback")
        return self.inner._receive_feedback(items)

    async def send_duty(self, item: DutyItem, idempotency_key: str) -> DutyAck:
        await self._enter("send_duty", "duties")
        return self.inner._receive_duty(item, idempotency_key)

    async def file_objection(self, request: ObjectionRequest, idempotency_key: str) -> ObjectionAck:
        await self._enter("file_objection", "objections")
        return self.inner._receive_objection(request)

    async def health(self) -> Mapping[str, Any]:
        await self._enter("health", "health")
        return {"status": "ok", "platform": "credit-sdk testing platform", "production": False}

    async def aclose(self) -> None:
        """Nothing to release."""
