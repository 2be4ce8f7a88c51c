"""The clients: :class:`CreditClient` (blocking) and :class:`AsyncCreditClient` (asyncio).

Both run the same eight steps for every check, and share every line that does not
do I/O in :class:`BaseClient`; only the lines that call the platform or the query log differ.

1. parse and validate the identifier (Art. 21): :class:`~credit_sdk.InvalidIdentifier` before
   any I/O;
2. guard the query: :class:`QueryContext` (Art. 23, 25), the scenario (Art. 27), and for a
   natural person an :class:`Authorization` covering the scenario (Art. 25, 56);
3. write the durable *intent* record (pseudonym and masked form only): if it cannot be written
   the check fails closed with :class:`~credit_sdk.AuditError`, and no report is fetched;
4. the report: from the cache, or from the platform (retries, circuit breaker);
5. the measure-list snapshot and the policy profile;
6. ``decide()``, pure;
7. write the durable *completion* record: :class:`~credit_sdk.AuditError` again fails closed;
8. return the :class:`~credit_sdk.Decision`.

When the platform fails (down, slow, breaker open, or an answer that breaks the contract) the
:class:`FailurePolicy` decides: by default the decision is ``INDETERMINATE`` with reason
``PLATFORM_UNAVAILABLE`` (never ``CLEAR`` for data the SDK does not have); with
``raise_on_unavailable`` the platform error is raised instead; with ``serve_stale`` a cached
report no older than ``max_staleness`` is used and the decision carries ``STALE_DATA``. In every
case the completion record is written first, with the error's class name.

>>> from credit_sdk import CreditClient, QueryContext, Scenario
>>> client = CreditClient.from_env()                                      # doctest: +SKIP
>>> ctx = QueryContext(organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
...                    purpose="food business licence application 2026-118")
>>> decision = client.check("91230100MA1C2X3Y48", Scenario.ADMIN_LICENSING, ctx)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import contextvars
import copy
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import math
import os
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from credit_sdk._audit._archive import ArchivedReport, ReportArchive
from credit_sdk._audit._types import (
    FeedbackItem,
    OutboxItem,
    OutboxStats,
    QueryCompletion,
    QueryIntent,
    QueryLog,
    new_query_id,
)
from credit_sdk._audit.memory import MemoryQueryLog
from credit_sdk._cache import CachedReport, CatalogSnapshot, ListStore, ReportCache
from credit_sdk._catalog import Catalog, MeasureList
from credit_sdk._deadline import DEFAULT_DEADLINE, check_deadline, check_wait, deadline_scope
from credit_sdk._decision import (
    Advisory,
    CommitmentEligibility,
    Decision,
    Outcome,
    Provenance,
    QueryStamp,
    ReasonCode,
    Supervision,
)
from credit_sdk._duties import (
    BasisUpdateRequest,
    Correction,
    Duty,
    DutyReceipt,
    InformationPush,
    build_duty,
)
from credit_sdk._engine import decide
from credit_sdk._errors import (
    AuditError,
    AuthorizationError,
    ConfigurationError,
    CreditSDKError,
    InvalidIdentifier,
    InvalidQuery,
    PlatformError,
    PlatformUnavailable,
    require_type,
    safe_token,
)
from credit_sdk._feedback import DEFAULT_PROBE_INTERVAL, FeedbackSender
from credit_sdk._identifiers import Identifier, IdentifierKind, parse_identifier
from credit_sdk._information import InformationCatalogue
from credit_sdk._labels import said
from credit_sdk._models import CreditReport, subject_kind_of
from credit_sdk._policy import PolicyProfile
from credit_sdk._providers import (
    MAX_BATCH,
    AsyncHttpProvider,
    AsyncProvider,
    HttpProvider,
    ObjectionRequest,
    Provider,
    ReportQuery,
)
from credit_sdk._query import DEFAULT_AUTHORIZATION_FAMILIES, Authorization, QueryContext
from credit_sdk._replay import report_bytes, report_digest
from credit_sdk._scenarios import Scenario, ScenarioFamily
from credit_sdk._telemetry import CheckInfo, Hook, Telemetry, _Span
from credit_sdk._transport import (
    AsyncTransport,
    BearerToken,
    CircuitBreaker,
    Credentials,
    HmacCredentials,
    RetryPolicy,
    SyncTransport,
    TransportConfig,
)
from credit_sdk._version import __version__
from credit_sdk._workdays import (
    DueDate,
    ExcludedPeriod,
    ObjectionDueDates,
    WorkingDayCalendar,
    objection_due_dates,
)
from credit_sdk._workers import FATAL, WorkerHealth, WorkerMonitor

__all__ = [
    "AsyncCreditClient",
    "BaseClient",
    "CheckResult",
    "ClientStatus",
    "CreditClient",
    "FailurePolicy",
    "ObjectionReceipt",
]

_log = logging.getLogger("credit_sdk.client")

_T = TypeVar("_T")

STALE_DATA = ReasonCode.STALE_DATA.value
STALE_LISTS = "STALE_LISTS"
REPORT_ONLY = "REPORT_ONLY"
_MEMO_LIMIT = 32


# --- public value types -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """What a check does when the platform fails.

    * ``FailurePolicy.fail_closed()`` (default): ``INDETERMINATE`` with ``PLATFORM_UNAVAILABLE``.
    * ``FailurePolicy.fail_closed(raise_on_unavailable=True)``: raise the
      :class:`~credit_sdk.PlatformError` (``PlatformUnavailable`` or ``PlatformProtocolError``).
    * ``FailurePolicy.serve_stale(max_staleness=3600)``: decide on a cached report no older than
      ``max_staleness`` seconds, flagged ``STALE_DATA``; without one, as ``fail_closed``.

    >>> FailurePolicy.serve_stale(max_staleness=3600).mode
    'serve_stale'
    """

    mode: Literal["fail_closed", "serve_stale"] = "fail_closed"
    max_staleness: float = 0.0
    raise_on_unavailable: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("fail_closed", "serve_stale"):
            raise ConfigurationError("failure policy mode must be fail_closed or serve_stale")
        if self.mode == "serve_stale" and not self.max_staleness > 0:
            raise ConfigurationError("serve_stale needs a positive max_staleness (seconds)")
        if self.max_staleness < 0:
            raise ConfigurationError("max_staleness may not be negative")

    @classmethod
    def fail_closed(cls, *, raise_on_unavailable: bool = False) -> FailurePolicy:
        return cls("fail_closed", 0.0, raise_on_unavailable)

    @classmethod
    def serve_stale(
        cls, max_staleness: float, *, raise_on_unavailable: bool = False
    ) -> FailurePolicy:
        return cls("serve_stale", float(max_staleness), raise_on_unavailable)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One subject's result in :meth:`CreditClient.check_many`: a decision or the error.

    ``subject`` is the masked identifier (``None`` when it did not parse). ``unwrap()`` returns
    the decision or raises the error.
    """

    index: int
    subject: str | None
    decision: Decision | None = None
    error: CreditSDKError | None = None

    @property
    def ok(self) -> bool:
        return self.decision is not None

    def unwrap(self) -> Decision:
        if self.decision is None:
            assert self.error is not None
            raise self.error
        return self.decision


@dataclass(frozen=True, slots=True)
class ObjectionReceipt:
    """Art. 53: an objection as the platform received it, with its statutory due dates.

    ``label_due``: the record must carry the objection label (异议标注) by this working day;
    ``decision_due``: the correction decision is due by this working day (three, or seven when
    another unit must help verify). Both are always dates, each computed on its own. When a
    day of the count falls in a year that neither the operator's holiday arrangement nor the
    official calendar knows, that date is a weekends-only estimate and ``due_dates_provisional``
    is true (``label``/``decision`` say which and for which years). Time spent on inspection,
    testing, quarantine, appraisal or expert review does not count (Art. 53 ¶2): recompute with
    ``client.objection_due_dates(receipt, excluded=[...])``.
    """

    objection_id: str
    received_on: dt.date
    status: str
    needs_assistance: bool
    label: DueDate
    decision: DueDate

    @property
    def label_due(self) -> dt.date:
        return self.label.due

    @property
    def decision_due(self) -> dt.date:
        return self.decision.due

    @property
    def due_dates_provisional(self) -> bool:
        """True when either date is a weekends-only estimate (see :class:`DueDate`)."""
        return self.label.provisional or self.decision.provisional


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """What :meth:`CreditClient.status` reports: readiness, lists, breaker, outbox, errors."""

    ready: bool
    lists_source: str | None
    lists: tuple[str, ...]
    lists_synced_at: dt.datetime | None
    lists_stale: bool
    breaker: str
    cached_reports: int
    outbox: OutboxStats | None
    last_platform_error: str | None
    last_list_sync_error: str | None
    last_feedback_error: str | None
    #: Each background worker's health (``lists``, ``feedback``): see :class:`WorkerHealth`.
    workers: tuple[WorkerHealth, ...] = ()
    #: Why the query log's last signed checkpoint could not be written (``None`` once one is,
    #: or without a checkpoint policy). ``AuditIntegrityError: ...`` means records since the
    #: previous checkpoint were changed in the database and nothing was signed over them.
    last_checkpoint_error: str | None = None


# --- internal -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Prepared:
    """Steps 1-2 done: everything a check needs, computed without I/O."""

    ident: Identifier
    scenario: Scenario
    ctx: QueryContext
    authorization: Authorization | None
    as_of: dt.date
    query_id: str
    pseudonym: str
    cache_key: Hashable
    grant_id: str | None
    # Set when the intent record is built (step 3): the time the log holds for this query.
    requested_at: dt.datetime | None = None

    def stamp(self) -> QueryStamp | None:
        """Who asked, when and why, for the decision (and its verification sheet)."""
        if self.requested_at is None:
            return None
        c = self.ctx
        return QueryStamp(self.requested_at, c.organ, c.operator, c.matter_code, c.purpose)

    def info(self) -> CheckInfo:
        """What hooks may see (built only when there are hooks or spans)."""
        return CheckInfo(
            self.query_id,
            self.scenario.value,
            _subject_kind(self.ident),
            self.ident.masked,
            self.ctx.organ,
        )

    def query(self) -> ReportQuery:
        """The platform request (built only on a cache miss)."""
        return ReportQuery(self.query_id, self.ident, self.scenario, self.ctx, self.grant_id)


@dataclass(slots=True)
class _Conclusion:
    decision: Decision
    # Built when it is written (step 7), so that a client without audit (benchmarks) pays
    # nothing for records it does not keep.
    completion: Callable[..., QueryCompletion]  # at= the batch's completion time
    raise_error: BaseException | None = None
    # The report it was decided on, for the report archive (when one is configured).
    entry: CachedReport | None = None


_DECISION_FIELDS = tuple(f.name for f in fields(Decision))

#: How often a client applies its report archive's retention (seconds; the first time at once).
_RETENTION_EVERY = 3600.0


def _with_query_id(decision: Decision, p: _Prepared) -> Decision:
    """``replace(decision, query_id=..., query=...)`` without re-running the dataclass
    machinery: a memoised decision is copied for each check that uses it (cached checks are
    hot)."""
    clone = object.__new__(Decision)
    for name in _DECISION_FIELDS:
        object.__setattr__(clone, name, getattr(decision, name))
    object.__setattr__(clone, "query_id", p.query_id)
    object.__setattr__(clone, "query", p.stamp())
    return clone


#: ``progress(done, total, failures)`` of a batch (:meth:`CreditClient.check_many`).
Progress = Callable[[int, int, int], object]


def _shifted(answers: list[CheckResult], start: int) -> list[CheckResult]:
    """A round's results with their indexes in the whole batch."""
    return [replace(r, index=r.index + start) for r in answers] if start else answers


def _subject_kind(ident: Identifier) -> str:
    return subject_kind_of(ident).value


def _read_secret_env(name: str, environ: Mapping[str, str]) -> str | None:
    """``NAME`` or the contents of the file named by ``NAME_FILE`` (container secrets)."""
    value = environ.get(name)
    path = environ.get(f"{name}_FILE")
    if value and path:
        raise ConfigurationError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigurationError(f"cannot read {name}_FILE: {err.strerror}") from None
    return value.strip() if value else None


_MAX_SECONDS = 366 * 24 * 3600.0  # no duration setting of the SDK needs more than a year


def _dead_letter_seconds(days: float) -> float:
    """``outbox_dead_letter_days`` in seconds: more than zero, at most a year."""
    if isinstance(days, bool) or not isinstance(days, int | float):
        raise TypeError("outbox_dead_letter_days must be a number of days")
    if not math.isfinite(days) or not 0 < days <= 366:
        raise ConfigurationError("outbox_dead_letter_days must be more than 0 and at most 366")
    return float(days) * 86400.0


#: ``outbox_probe_interval`` bounds: a health probe at most twenty times a second (faster would
#: hammer a platform that is down) and at least once an hour (slower would leave a recovered
#: platform's outbox undrained for longer than any operator would wait).
_PROBE_INTERVAL_RANGE = (0.05, 3600.0)


def _probe_interval_seconds(seconds: float, name: str = "outbox_probe_interval") -> float:
    """``outbox_probe_interval``: the least time between two health probes of the outbox
    sender while the platform is unavailable, from 0.05 s to an hour."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"{name} must be a number of seconds")
    low, high = _PROBE_INTERVAL_RANGE
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise ConfigurationError(
            f"{name} must be from {low:g} to {high:g} seconds (at most one health probe per "
            "interval while the platform is unavailable)"
        )
    return float(seconds)


def _env_number(environ: Mapping[str, str], name: str, unit: str) -> float | None:
    """A number from the environment, or None when the variable is unset or blank. The text is
    never echoed back (a secret set in the wrong variable must not reach a log)."""
    text = environ.get(name)
    if text is None or not text.strip():
        return None
    try:
        return float(text) if len(text) <= 32 else math.nan
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of {unit}") from None


def _probe_interval_env(environ: Mapping[str, str], name: str, default: float) -> float:
    """``outbox_probe_interval`` from the environment."""
    value = _env_number(environ, name, "seconds")
    return default if value is None else _probe_interval_seconds(value, name)


def _days_env(environ: Mapping[str, str], name: str, default: float) -> float:
    """A number of days from the environment (more than 0, at most a year)."""
    value = _env_number(environ, name, "days")
    if value is None:
        return default
    if not math.isfinite(value) or not 0 < value <= 366:
        raise ConfigurationError(f"{name} must be a number of days, more than 0 and at most 366")
    return value


def _float_env(environ: Mapping[str, str], name: str, default: float) -> float:
    """A duration in seconds from the environment, bounded: finite, 0 to one year."""
    value = _env_number(environ, name, "seconds")
    if value is None:
        return default
    if not math.isfinite(value) or not 0 <= value <= _MAX_SECONDS:
        raise ConfigurationError(f"{name} must be a finite number of seconds from 0 to one year")
    return value


def _deadline_env(environ: Mapping[str, str]) -> float:
    name = "CREDIT_SDK_DEADLINE"
    value = _float_env(environ, name, DEFAULT_DEADLINE)
    try:
        return check_deadline(value, name)
    except ConfigurationError:
        raise ConfigurationError(f"{name} must be a number of seconds in (0, 600]") from None


def _bool_env(environ: Mapping[str, str], name: str, default: bool) -> bool:
    text = (environ.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false (1/0, yes/no, on/off)")


def _pseudonym_key(value: bytes | str | None, name: str = "the pseudonym key") -> bytes:
    """The key as bytes; ``name`` is what errors call it (the environment variable when it
    came from one). The value itself is never echoed."""
    if value is None:
        raise ConfigurationError(
            "a pseudonym key is required (Art. 25: the log keeps HMAC pseudonyms, never raw "
            "identifiers): pass pseudonym_key=... or set CREDIT_SDK_PSEUDONYM_KEY(_FILE)"
        )
    if isinstance(value, str):
        try:
            value = binascii.unhexlify(value.strip())
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"{name} must be hex characters (at least 32: a key of 16 bytes or more)"
            ) from None
    if len(value) < 16:
        raise ConfigurationError(f"{name} must be at least 16 bytes (32 hex characters)")
    return bytes(value)


def _default_lists_dir(base_url: str) -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:16]
    return Path(root) / "credit-sdk" / "lists" / digest


def _credentials(
    credentials: Credentials | None,
    token: str | None,
    app_id: str | None,
    app_secret: bytes | str | None,
) -> Credentials:
    given = sum(x is not None for x in (credentials, token, app_id or app_secret))
    if given == 0:
        raise ConfigurationError(
            "a platform credential is required: token=... (bearer) or app_id=... and "
            "app_secret=... (HMAC signing), or CREDIT_SDK_TOKEN / CREDIT_SDK_APP_ID and "
            "CREDIT_SDK_APP_SECRET"
        )
    if given > 1:
        raise ConfigurationError("give one credential: credentials, token, or app_id+app_secret")
    if credentials is not None:
        return credentials
    if token is not None:
        return BearerToken(token)
    if not app_id or app_secret is None:
        raise ConfigurationError("HMAC signing needs both app_id and app_secret")
    return HmacCredentials(app_id, app_secret)


class BaseClient:
    """All the logic of a client that does no I/O; subclasses add the I/O lines.

    Not used directly: see :class:`CreditClient` and :class:`AsyncCreditClient`.
    """

    _provider: Any
    #: Connections per client when ``max_connections`` is not given. The async pool is smaller:
    #: httpcore's async pool scans every connection on each request, so beyond a few
    #: connections it costs more CPU than the extra parallelism brings on a loopback or LAN
    #: platform (see benchmarks/client_bench.py); excess requests wait on a semaphore instead.
    _default_pool = 10

    def __init__(
        self,
        base_url: str | None = None,
        *,
        audit: QueryLog,
        pseudonym_key: bytes | str | None,
        token: str | None = None,
        app_id: str | None = None,
        app_secret: bytes | str | None = None,
        credentials: Credentials | None = None,
        provider: Any = None,
        failure_policy: FailurePolicy | None = None,
        catalog: Catalog | None = None,
        profile: PolicyProfile | str | None = None,
        information_catalogue: InformationCatalogue | str | os.PathLike[str] | None = None,
        lists_dir: str | os.PathLike[str] | None = None,
        list_sync_interval: float | None = 300.0,
        max_list_staleness: float = 24 * 3600.0,
        cache_ttl: float = 60.0,
        cache_size: int = 10_000,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        deadline: float = DEFAULT_DEADLINE,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        allow_insecure_http: bool = False,
        max_connections: int | None = None,
        max_response_bytes: int = 8 * 1024 * 1024,
        retry: RetryPolicy | None = None,
        breaker_threshold: int = 5,
        breaker_recovery: float = 30.0,
        authorization_required_for: Iterable[Scenario | ScenarioFamily | str] | None = None,
        batch_size: int = MAX_BATCH,
        batch_concurrency: int = 4,
        hooks: Sequence[Hook] = (),
        telemetry: bool = True,
        feedback_poll_interval: float = 2.0,
        outbox_dead_letter_days: float = 7.0,
        outbox_probe_interval: float = DEFAULT_PROBE_INTERVAL,
        http_transport: Any = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] | None = None,
        holidays: WorkingDayCalendar | str | os.PathLike[str] | None = None,
        report_archive: ReportArchive | None = None,
    ) -> None:
        if audit is None:
            raise ConfigurationError(
                "a query log is required (Art. 25): pass audit=open_query_log(...) or set "
                "CREDIT_SDK_AUDIT_DB"
            )
        self._audit = audit
        if report_archive is not None and not isinstance(report_archive, ReportArchive):
            raise ConfigurationError("report_archive=... takes a ReportArchive")
        self._report_archive = report_archive
        self._retention_lock = threading.Lock()
        self._retention_applied_at: float | None = None
        self._key = _pseudonym_key(pseudonym_key)
        self.deadline = check_deadline(deadline)
        self.failure_policy = failure_policy or FailurePolicy()
        if isinstance(profile, str):
            profile = PolicyProfile.get(profile)
        elif profile is not None:
            require_type(profile, PolicyProfile, "profile")
        self.profile = profile if profile is not None else PolicyProfile.default()
        if catalog is not None:
            require_type(catalog, Catalog, "catalog")
        # Art. 19 ¶1, 65(2): records outside this catalogue are never used. The shipped one is
        # a sample; a deployment passes the catalogue its province publishes (or a path to it).
        if information_catalogue is None:
            information_catalogue = InformationCatalogue.default()
        elif not isinstance(information_catalogue, InformationCatalogue):
            require_type(
                information_catalogue,
                (InformationCatalogue, str, os.PathLike),
                "information_catalogue",
            )
            information_catalogue = InformationCatalogue.load(information_catalogue)
        self.information_catalogue = information_catalogue
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigurationError(f"batch_size must be 1-{MAX_BATCH}")
        if batch_concurrency < 1:
            raise ConfigurationError("batch_concurrency must be at least 1")
        self.batch_size = batch_size
        self.batch_concurrency = batch_concurrency
        self._today = today or (lambda: dt.datetime.now(dt.UTC).astimezone(_CHINA).date())
        # Working days (Art. 22, 52, 53): the operator's holiday arrangement first (argument,
        # else CREDIT_SDK_HOLIDAYS), then the official calendar, then a provisional estimate.
        # A malformed file fails here, at configuration time, not when a date is due.
        if holidays is None:
            self.calendar = WorkingDayCalendar.from_env()
        elif isinstance(holidays, WorkingDayCalendar):
            self.calendar = holidays
        else:
            self.calendar = WorkingDayCalendar.load(holidays)
        self._clock = clock
        self.breaker = CircuitBreaker(
            failure_threshold=breaker_threshold, recovery_time=breaker_recovery, clock=clock
        )
        self._transport_config: TransportConfig | None = None
        self._http_transport = http_transport
        self.base_url: str | None = None
        if provider is None:
            if not base_url:
                raise ConfigurationError(
                    "the platform URL is required: base_url=... or CREDIT_SDK_BASE_URL "
                    "(there is no default platform)"
                )
            self.base_url = base_url
            self._transport_config = TransportConfig(
                base_url=base_url,
                credentials=_credentials(credentials, token, app_id, app_secret),
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_connections=max_connections or self._default_pool,
                max_keepalive=max_connections or self._default_pool,
                max_response_bytes=max_response_bytes,
                retry=retry or RetryPolicy(),
                deadline=self.deadline,
                verify=verify,
                allow_insecure_http=allow_insecure_http,
            )
        elif any(x is not None for x in (token, app_id, app_secret, credentials)):
            raise ConfigurationError("credentials belong to the provider when one is given")
        self._provider = (
            self._adapt_provider(provider)
            if provider is not None
            else self._http_provider(self._transport_config)
        )
        retention = (
            self.failure_policy.max_staleness if self.failure_policy.mode == "serve_stale" else 0.0
        )
        self._cache = ReportCache(
            maxsize=cache_size, ttl=cache_ttl, retention=retention, clock=clock
        )
        if lists_dir is None and catalog is None and self.base_url is not None:
            lists_path: Path | None = _default_lists_dir(self.base_url)
        else:
            lists_path = Path(lists_dir) if lists_dir is not None else None
        self._lists = ListStore(
            lists_dir=lists_path, pinned=catalog, max_staleness=max_list_staleness
        )
        self.list_sync_interval = list_sync_interval
        families: set[str] = set()
        for item in (
            authorization_required_for
            if authorization_required_for is not None
            else (DEFAULT_AUTHORIZATION_FAMILIES)
        ):
            families.add(item.value if isinstance(item, Scenario | ScenarioFamily) else str(item))
        self._auth_required = frozenset(families)
        self._telemetry = Telemetry(hooks, enabled=telemetry)
        self._blocking_log = not isinstance(audit, MemoryQueryLog)
        self._sender = FeedbackSender(
            audit,
            poll_interval=feedback_poll_interval,
            dead_letter_after=_dead_letter_seconds(outbox_dead_letter_days),
            probe_interval=_probe_interval_seconds(outbox_probe_interval),
            clock=clock,
            blocking_log=self._blocking_log,
            deadline=self.deadline,
        )
        self._started = False
        self._started_pid = 0
        self._closed = False
        self._is_view = False
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._list_worker = WorkerMonitor("lists")

    def _list_round_failed(self, err: BaseException) -> float:
        """A list-sync round raised past ListStore's own handling: note the class, back off."""
        self._list_worker.failed(err)
        _log.error("measure-list sync worker: %s; keeping the current lists", type(err).__name__)
        backoff = 5.0 * float(2 ** min(self._list_worker.failures, 6))
        return min(self.list_sync_interval or 300.0, backoff)

    def _list_round_done(self) -> None:
        if self._lists.last_error is None:
            self._list_worker.succeeded()
        else:
            self._list_worker.failed(self._lists.last_error.split(":", 1)[0])

    def _failed_completion(
        self, p: _Prepared, err: BaseException, trace_id: str | None
    ) -> QueryCompletion:
        """Step 7 for a check that raised (a bug, a cancellation, an interrupt): the intent
        never dangles, and the record names the error's class."""
        return self._completion(p, None, error=err, trace_id=trace_id)

    def _adapt_provider(self, provider: Any) -> Any:
        return provider

    def _http_provider(self, config: TransportConfig | None) -> Any:
        raise NotImplementedError

    # -- construction from the environment or for the sandbox ---------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build a client from ``CREDIT_SDK_*`` environment variables (see docs/client.md);
        anything missing is a :class:`~credit_sdk.ConfigurationError`, never a default.

        >>> client = CreditClient.from_env()                               # doctest: +SKIP
        """
        kwargs = _env_kwargs(os.environ if environ is None else environ)
        target = kwargs.pop("_audit_target")
        kwargs.update(overrides)
        if "audit" not in kwargs:
            from credit_sdk._audit import open_query_log

            kwargs["audit"] = open_query_log(target)
        return cls(**kwargs)

    @classmethod
    def sandbox(
        cls,
        url: str,
        *,
        token: str | None = None,
        app_id: str | None = None,
        app_secret: bytes | str | None = None,
        audit: QueryLog | None = None,
        pseudonym_key: bytes | None = None,
        **kwargs: Any,
    ) -> Self:
        """A client for the sandbox platform (``credit-sdk sandbox``), for development only.

        Without ``audit`` it logs to an in-memory query log, and without ``pseudonym_key`` it
        uses a random per-process key: both are announced with a warning, because neither is
        acceptable outside the sandbox (Art. 25 needs a durable log). Measure lists are kept in
        a temporary directory unless ``lists_dir`` or ``catalog`` is given.

        >>> client = CreditClient.sandbox("http://127.0.0.1:8600", token="sandbox-token")
        ... # doctest: +SKIP
        """
        if audit is None:
            from credit_sdk._audit import MemoryQueryLog

            _log.warning("sandbox client: the query log is in memory (not durable, not Art. 25)")
            audit = MemoryQueryLog()
        if pseudonym_key is None:
            _log.warning("sandbox client: pseudonyms use a random key for this process only")
            pseudonym_key = secrets.token_bytes(32)
        if "lists_dir" not in kwargs and "catalog" not in kwargs:
            kwargs["lists_dir"] = Path(tempfile.gettempdir()) / (
                f"credit-sdk-sandbox-lists-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
            )
        return cls(
            url,
            token=token,
            app_id=app_id,
            app_secret=app_secret,
            audit=audit,
            pseudonym_key=pseudonym_key,
            **kwargs,
        )

    # -- per-call overrides --------------------------------------------------------------------

    def with_options(
        self,
        *,
        failure_policy: FailurePolicy | None = None,
        profile: PolicyProfile | str | None = None,
        deadline: float | None = None,
    ) -> Self:
        """A view of this client with another failure policy, policy profile or deadline
        (seconds a check may spend on the platform), sharing its
        connection pool, caches, lists, query log and background work (closing the view does
        nothing; close the client).

        >>> strict = client.with_options(
        ...     failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True))
        ... # doctest: +SKIP
        """
        view = copy.copy(self)
        if failure_policy is not None:
            if failure_policy.mode == "serve_stale" and (
                failure_policy.max_staleness > self._cache.retention
            ):
                raise ConfigurationError(
                    "this client keeps reports for at most "
                    f"{self._cache.retention:g} s; build it with serve_stale to serve older ones"
                )
            view.failure_policy = failure_policy
        if isinstance(profile, str):
            view.profile = PolicyProfile.get(profile)
        elif profile is not None:
            require_type(profile, PolicyProfile, "profile")
            view.profile = profile
        if deadline is not None:
            view.deadline = check_deadline(deadline)
        view._is_view = True
        return view

    # -- representation: never a secret -----------------------------------------------------

    @property
    def query_log(self) -> QueryLog:
        """The query log every check of this client is written to (Art. 25): what
        ``decision.to_html(log=client.query_log)`` reads the query's position from."""
        log: QueryLog = self._audit
        return log

    def __repr__(self) -> str:
        where = self.base_url if self.base_url is not None else repr(self._provider)
        auth = repr(self._transport_config.credentials) if self._transport_config else "provider"
        return (
            f"{type(self).__name__}({where!r}, auth={auth}, audit={type(self._audit).__name__}, "
            f"policy={self.failure_policy.mode})"
        )

    # -- steps 1 and 2 (pure) ----------------------------------------------------------------

    def _needs_authorization(self, ident: Identifier, scenario: Scenario) -> bool:
        if ident.kind is IdentifierKind.USCC:
            return False
        return scenario.value in self._auth_required or scenario.family.value in self._auth_required

    def _prepare(
        self,
        subject: str | Identifier,
        scenario: Scenario | str,
        ctx: QueryContext,
        authorization: Authorization | None,
        as_of: dt.date | None,
    ) -> _Prepared:
        require_type(subject, (str, Identifier), "subject")
        require_type(scenario, (str, Scenario), "scenario")
        ident = parse_identifier(subject)  # 1: InvalidIdentifier before any I/O
        return self._guard(ident, Scenario.parse(scenario), ctx, authorization, as_of)

    def _guard(
        self,
        ident: Identifier,
        scenario: Scenario,
        ctx: QueryContext,
        authorization: Authorization | None,
        as_of: dt.date | None,
    ) -> _Prepared:
        if not isinstance(ctx, QueryContext):
            raise TypeError(
                "ctx must be a QueryContext (organ, operator, matter_code, purpose; Art. 23, "
                f"25), not {type(ctx).__name__}"
            )
        if as_of is not None:
            require_type(as_of, dt.date, "as_of")
        today = self._today()
        if as_of is None:
            as_of = today
        elif isinstance(as_of, dt.datetime):
            as_of = as_of.date()
        if authorization is not None:
            require_type(authorization, Authorization, "authorization")
            if ident.kind is IdentifierKind.USCC:
                raise AuthorizationError(
                    "authorisations are for natural persons' information; this subject is an "
                    "organisation",
                    rule="authorization_subject",
                )
            authorization.check(scenario, today, subject=ident)
        elif self._needs_authorization(ident, scenario):
            raise AuthorizationError(
                f"querying a natural person's conditional information for {scenario.value!r} "
                "needs the person's Authorization covering it (Art. 25, 56)",
                rule="authorization_missing",
            )
        query_id = new_query_id()
        pseudonym = ident.pseudonym(self._key)
        grant = authorization.grant_id if authorization is not None else None
        return _Prepared(
            ident=ident,
            scenario=scenario,
            ctx=ctx,
            authorization=authorization,
            as_of=as_of,
            query_id=query_id,
            pseudonym=pseudonym,
            cache_key=(pseudonym, grant),
            grant_id=grant,
        )

    def _intent(
        self, p: _Prepared, trace_id: str | None, at: dt.datetime | None = None
    ) -> QueryIntent:
        p.requested_at = at or dt.datetime.now(dt.UTC)
        return QueryIntent._from_client(
            query_id=p.query_id,
            requested_at=p.requested_at,
            organ=p.ctx.organ,
            operator=p.ctx.operator,
            matter_code=p.ctx.matter_code,
            purpose=p.ctx.purpose,
            scenario=p.scenario.value,
            subject_pseudonym=p.pseudonym,
            subject_display=p.ident.masked,
            subject_kind=p.ident.kind.value,
            authorization_id=p.authorization.grant_id if p.authorization else None,
            trace_id=trace_id,
        )

    # -- steps 4-7 (pure given the I/O results) ----------------------------------------------

    def _decide(self, p: _Prepared, entry: CachedReport, snap: CatalogSnapshot) -> Decision:
        memo_key = (p.scenario, p.as_of, snap.key, self.profile.profile_id)
        decision = entry.decisions.get(memo_key)
        if decision is None:
            decision = decide(
                entry.report,
                p.scenario,
                as_of=p.as_of,
                catalog=snap.catalog,
                profile=self.profile,
                information_catalogue=self.information_catalogue,
            )
            if len(entry.decisions) >= _MEMO_LIMIT:
                entry.decisions.clear()
            entry.decisions[memo_key] = decision
        return decision

    def _indeterminate(
        self, p: _Prepared, snap: CatalogSnapshot | None, error: BaseException
    ) -> Decision:
        """Fail closed: no data, so no measure and never CLEAR."""
        reason = ReasonCode.PLATFORM_UNAVAILABLE
        message = said(
            f"无法取得可用的信用信息（{type(error).__name__}）：核查结论为无法判定，不得视为无失信",
            f"no usable credit data ({type(error).__name__}): the decision is indeterminate; "
            "do not treat the subject as clear (fail closed)",
        )
        return Decision(
            outcome=Outcome.INDETERMINATE,
            scenario=p.scenario.value,
            subject=p.ident.masked,
            subject_kind=_subject_kind(p.ident),
            restrictions=(),
            incentives=(),
            voluntary=(),
            held_for_review=(),
            exclusions=(),
            advisories=(Advisory(reason, message),),
            commitment=CommitmentEligibility(False, reason),
            # No data says nothing about the subject: no tier (not "high"), the normal rate.
            supervision=Supervision("unknown", 1.0, "no credit data: no tier can be given"),
            provenance=Provenance(
                report_id=None,
                lists=snap.refs if snap is not None else (),
                policy_profile=self.profile.profile_id,
                sdk_version=__version__,
                as_of=p.as_of,
            ),
            flags=frozenset({reason.value}),
            query_id=p.query_id,
            query=p.stamp(),
        )

    def _completion(
        self,
        p: _Prepared,
        decision: Decision | None,
        *,
        error: BaseException | None = None,
        trace_id: str | None = None,
        extra_flags: Iterable[str] = (),
        entry: CachedReport | None = None,
        at: dt.datetime | None = None,
    ) -> QueryCompletion:
        report_sha256 = entry.report_sha256() if entry is not None else None
        at = at or dt.datetime.now(dt.UTC)
        if decision is None:
            return QueryCompletion._from_client(
                query_id=p.query_id,
                completed_at=at,
                outcome=Outcome.INDETERMINATE.value,
                policy_profile=self.profile.profile_id,
                trace_id=trace_id,
                flags=tuple(sorted(set(extra_flags))),
                error=type(error).__name__ if error is not None else None,
                report_sha256=report_sha256,
                as_of=p.as_of,
            )
        flags = decision.flags
        return QueryCompletion._from_client(
            query_id=p.query_id,
            completed_at=at,
            outcome=decision.outcome.value,
            policy_profile=decision.provenance.policy_profile,
            applied_measure_ids=decision.applied_measure_ids,
            report_id=decision.provenance.report_id,
            lists=decision.provenance.lists,
            trace_id=trace_id,
            flags=tuple(sorted(set(flags) | set(extra_flags))) if flags or extra_flags else (),
            error=type(error).__name__ if error is not None else None,
            report_sha256=report_sha256 if decision.provenance.report_id is not None else None,
            as_of=p.as_of,
        )

    def _conclude(
        self,
        p: _Prepared,
        entry: CachedReport | None,
        error: PlatformError | None,
        snap: CatalogSnapshot | None,
        trace_id: str | None,
    ) -> _Conclusion:
        """Steps 5-6 and the completion record's content, under the failure policy."""
        policy = self.failure_policy
        flags: set[str] = set()
        if snap is None:
            err: BaseException = error or PlatformUnavailable(
                "no verified measure lists are available (none on disk, none shipped, and the "
                "platform could not be reached)"
            )
            decision = self._indeterminate(p, None, err)
            return _Conclusion(
                decision,
                partial(self._completion, p, decision, error=err, trace_id=trace_id),
                err if policy.raise_on_unavailable else None,
            )
        if self._lists.is_stale(snap):
            flags.add(STALE_LISTS)
        stale_age: float | None = None
        if entry is None and error is not None and policy.mode == "serve_stale":
            entry = self._cache.get_stale(p.cache_key, policy.max_staleness)
            if entry is not None:
                stale_age = self._cache.age(entry)
        if entry is None:
            assert error is not None
            decision = self._indeterminate(p, snap, error)
            if flags:
                decision = decision.with_flags(*flags)
            return _Conclusion(
                decision,
                partial(self._completion, p, decision, error=error, trace_id=trace_id),
                error if policy.raise_on_unavailable else None,
            )
        try:
            decision = self._decide(p, entry, snap)
        except CreditSDKError as err:
            # e.g. a policy profile not in force on as_of: logged, then raised to the caller.
            return _Conclusion(
                self._indeterminate(p, snap, err),
                partial(self._completion, p, None, error=err, trace_id=trace_id, entry=entry),
                err,
            )
        if stale_age is not None:
            flags.add(STALE_DATA)
            decision = replace(
                decision,
                advisories=(
                    *decision.advisories,
                    Advisory(
                        ReasonCode.STALE_DATA,
                        said(
                            f"信用信息平台调用失败（{type(error).__name__}）；依据 "
                            f"{stale_age:.0f} 秒前缓存的信用报告判定（serve_stale）",
                            f"the platform failed ({type(error).__name__}); decided on a cached "
                            f"report {stale_age:.0f} s old (serve_stale policy)",
                        ),
                    ),
                ),
            )
        if flags:
            decision = decision.with_flags(*flags)
        decision = _with_query_id(decision, p)
        return _Conclusion(
            decision,
            partial(
                self._completion,
                p,
                decision,
                error=error if stale_age else None,
                trace_id=trace_id,
                entry=entry,
            ),
            entry=entry,
        )

    def _retention_cutoff(self) -> dt.datetime | None:
        """The time before which archived reports are past the archive's retention, when it
        is due to be applied (the first time, then at most once an hour); else ``None``."""
        archive = self._report_archive
        if archive is None:
            return None
        now = time.monotonic()
        with self._retention_lock:
            last = self._retention_applied_at
            if last is not None and now - last < _RETENTION_EVERY:
                return None
            self._retention_applied_at = now
        return dt.datetime.now(dt.UTC) - archive.retention

    def _archived(self, conclusions: Iterable[_Conclusion]) -> list[ArchivedReport]:
        """The sealed reports of ``conclusions`` for the report archive (none without one)."""
        archive = self._report_archive
        if archive is None:
            return []
        out = []
        for c in conclusions:
            entry = c.entry
            if entry is None or c.decision.query_id is None:
                continue
            data = report_bytes(entry.report)
            digest = entry.report_sha256()
            if data is None or digest is None:
                continue
            out.append(archive.seal(c.decision.query_id, digest, data))
        return out

    def _report_completion(
        self, p: _Prepared, report: CreditReport | None, error: BaseException | None
    ) -> QueryCompletion:
        return QueryCompletion(
            query_id=p.query_id,
            completed_at=dt.datetime.now(dt.UTC),
            outcome=Outcome.INDETERMINATE.value,
            policy_profile=self.profile.profile_id,
            report_id=report.report_id if report is not None else None,
            report_sha256=report_digest(report) if report is not None else None,
            flags=(REPORT_ONLY,),
            error=type(error).__name__ if error is not None else None,
        )

    # -- feedback and objections (pure parts) ------------------------------------------------

    def _feedback_items(
        self,
        decision: Decision,
        applied: Sequence[str],
        not_applied: Sequence[tuple[str, str]],
        case_id: str,
        implementing_department: str,
        occurred_at: dt.datetime | None,
    ) -> list[FeedbackItem]:
        require_type(decision, Decision, "decision")
        for name, value in (
            ("case_id", case_id),
            ("implementing_department", implementing_department),
        ):
            require_type(value, str, name)
        if occurred_at is not None:
            require_type(occurred_at, dt.datetime, "occurred_at")
        if isinstance(applied, str) or not isinstance(applied, Sequence):
            raise TypeError(
                f"applied must be a sequence of measure ids, not {type(applied).__name__}"
            )
        if isinstance(not_applied, str) or not isinstance(not_applied, Sequence):
            raise TypeError(
                f"not_applied must be a sequence of (measure id, reason), not "
                f"{type(not_applied).__name__}"
            )
        for m in applied:
            require_type(m, str, "applied items")
        for pair in not_applied:
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise TypeError("not_applied items must be (measure id, reason) pairs")
            require_type(pair[0], str, "not_applied measure ids")
            require_type(pair[1], str, "not_applied reasons")
        if decision.query_id is None:
            raise InvalidQuery(
                "feedback needs a Decision returned by this client's check() (it carries the "
                "query id the platform knows)",
                rule="feedback",
            )
        known = {
            m.measure_id
            for m in (
                *decision.restrictions,
                *decision.incentives,
                *decision.voluntary,
                *decision.held_for_review,
            )
        }
        items: list[FeedbackItem] = []
        seen: set[str] = set()
        when = occurred_at or dt.datetime.now(dt.UTC)
        pairs = [(m, True, None) for m in applied] + [(m, False, r) for m, r in not_applied]
        if not pairs:
            raise InvalidQuery(
                "feedback needs at least one applied or not_applied measure", rule="feedback"
            )
        for measure_id, was_applied, reason in pairs:
            shown = repr(measure_id) if safe_token(measure_id) else "(not shown)"
            if measure_id not in known:
                raise InvalidQuery(f"measure {shown} is not part of this decision", rule="feedback")
            if measure_id in seen:
                raise InvalidQuery(f"measure {shown} is reported twice", rule="feedback")
            seen.add(measure_id)
            items.append(
                FeedbackItem(
                    query_id=decision.query_id,
                    measure_id=measure_id,
                    applied=was_applied,
                    reason=reason,
                    case_id=case_id,
                    implementing_department=implementing_department,
                    occurred_at=when,
                )
            )
        return items

    def _duty(
        self, duty: Duty, subject: str | Identifier, organ: str
    ) -> tuple[OutboxItem, DutyReceipt]:
        """Validate a duty (Art. 22, 52) before any I/O and build its outbox item and receipt."""
        if isinstance(subject, str):
            subject = parse_identifier(subject)
        elif not isinstance(subject, Identifier):
            raise TypeError("subject must be an identifier string or an Identifier")
        item, receipt = build_duty(
            duty,
            subject,
            organ=organ,
            key=self._key,
            calendar=self.calendar,
            today=self._today(),
            catalogue=self.information_catalogue,
        )
        if receipt.late:
            _log.warning(
                "%s %s is queued after its due date %s (late, delivered anyway)",
                receipt.article,
                receipt.kind.value,
                receipt.due.due.isoformat(),
            )
        return item, receipt

    def _objection_request(
        self,
        subject: str | Identifier,
        item_id: str,
        reason: str,
        needs_assistance: bool,
        ctx: QueryContext | None,
    ) -> tuple[ObjectionRequest, str]:
        require_type(subject, (str, Identifier), "subject")
        require_type(item_id, str, "item_id")
        require_type(reason, str, "reason")
        require_type(needs_assistance, bool, "needs_assistance")
        if ctx is not None:
            require_type(ctx, QueryContext, "ctx")
        ident = parse_identifier(subject)
        if not isinstance(item_id, str) or not item_id.strip():
            raise InvalidQuery(
                "item_id (the record or listing objected to) is required", rule="objection"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidQuery("an objection needs a reason (Art. 53)", rule="objection")
        request = ObjectionRequest(
            ident,
            item_id.strip(),
            reason.strip(),
            bool(needs_assistance),
            ctx.organ if ctx is not None else None,
        )
        material = "\x1f".join((item_id.strip(), reason.strip(), str(bool(needs_assistance))))
        key = (
            "obj-"
            + hmac.new(
                self._key, ident.pseudonym(self._key).encode() + material.encode(), hashlib.sha256
            ).hexdigest()[:48]
        )
        return request, key

    def _receipt(self, ack: Any, needs_assistance: bool) -> ObjectionReceipt:
        # Never None, never a crash: a year no calendar knows is estimated and marked so.
        due = self._objection_dates(ack.received_on, needs_assistance, ())
        return ObjectionReceipt(
            ack.objection_id, ack.received_on, ack.status, needs_assistance, due.label, due.decision
        )

    def _objection_dates(
        self, received_on: dt.date, needs_assistance: bool, excluded: Sequence[ExcludedPeriod]
    ) -> ObjectionDueDates:
        return objection_due_dates(
            received_on,
            needs_assistance=needs_assistance,
            label_days=self.profile.objection_label_working_days,
            decision_days=self.profile.objection_decision_working_days,
            assisted_decision_days=self.profile.objection_assisted_decision_working_days,
            excluded=excluded,
            calendar=self.calendar,
        )

    def objection_due_dates(
        self, receipt: ObjectionReceipt, *, excluded: Sequence[ExcludedPeriod] = ()
    ) -> ObjectionReceipt:
        """The receipt with its due dates counted again, leaving out ``excluded`` periods of
        inspection, testing, quarantine, appraisal or expert review (Art. 53 ¶2). Pure: no I/O.

        >>> later = client.objection_due_dates(receipt, excluded=[ExcludedPeriod(
        ...     dt.date(2026, 11, 30), dt.date(2026, 12, 4), "appraisal")])  # doctest: +SKIP
        """
        if not isinstance(receipt, ObjectionReceipt):
            raise TypeError("receipt must be an ObjectionReceipt")
        due = self._objection_dates(receipt.received_on, receipt.needs_assistance, excluded)
        return dataclasses.replace(receipt, label=due.label, decision=due.decision)

    # -- lists and status --------------------------------------------------------------------

    def lists(self) -> tuple[MeasureList, ...]:
        """The measure-list editions decisions are made on now (empty before any is loaded)."""
        snap = self._lists.snapshot
        return snap.catalog.lists if snap is not None else ()

    def _status(self, outbox: OutboxStats | None) -> ClientStatus:
        snap = self._lists.snapshot
        transport = getattr(self._provider, "transport", None)
        return ClientStatus(
            ready=snap is not None,
            lists_source=snap.source if snap else None,
            lists=tuple(f"{lid}@{ver}" for lid, ver, _ in snap.refs) if snap else (),
            lists_synced_at=snap.synced_at if snap else None,
            lists_stale=self._lists.is_stale(snap),
            breaker=self.breaker.state,
            cached_reports=len(self._cache),
            outbox=outbox,
            last_platform_error=getattr(transport, "last_error", None),
            last_list_sync_error=self._lists.last_error,
            last_feedback_error=self._sender.last_error,
            workers=(self._list_worker.health(), self._sender.monitor.health()),
            last_checkpoint_error=getattr(self._audit, "last_checkpoint_error", None),
        )

    def invalidate_cache(self, subject: str | Identifier | None = None) -> None:
        """Forget cached reports: one subject's, or all."""
        if subject is None:
            self._cache.invalidate()
            return
        pseudonym = parse_identifier(subject).pseudonym(self._key)
        with self._cache._lock:
            for key in [k for k in self._cache._data if isinstance(k, tuple) and k[0] == pseudonym]:
                self._cache._data.pop(key, None)

    def _conclude_batch(
        self,
        prepared: list[tuple[int, _Prepared]],
        fetched: Mapping[int, CachedReport | PlatformError],
        snap: CatalogSnapshot | None,
        trace_id: str | None,
    ) -> list[tuple[int, _Prepared, _Conclusion]]:
        """Steps 5-6 for each subject of a batch, from what the platform (or cache) gave."""
        out: list[tuple[int, _Prepared, _Conclusion]] = []
        for i, p in prepared:
            got = fetched.get(i)
            entry = got if isinstance(got, CachedReport) else None
            error = got if isinstance(got, PlatformError) else None
            out.append((i, p, self._conclude(p, entry, error, snap, trace_id)))
        return out

    @staticmethod
    def _fill_results(
        results: list[CheckResult | None], conclusions: list[tuple[int, _Prepared, _Conclusion]]
    ) -> None:
        for i, p, c in conclusions:
            err = c.raise_error
            results[i] = CheckResult(
                i,
                p.ident.masked,
                decision=None if err is not None else c.decision,
                error=err if isinstance(err, CreditSDKError) else None,
            )

    def _rounds(
        self, subjects: Sequence[str | Identifier]
    ) -> list[tuple[int, Sequence[str | Identifier]]]:
        """The rounds a batch with progress runs in: what the client sends at once."""
        step = self.batch_size * self.batch_concurrency
        return [(start, subjects[start : start + step]) for start in range(0, len(subjects), step)]

    def _pending_for_batch(
        self,
        subjects: Sequence[str | Identifier],
        scenario_given: Scenario | str,
        ctx: QueryContext,
        authorizations: Mapping[str, Authorization] | None,
        as_of: dt.date | None,
    ) -> tuple[Scenario, list[CheckResult | None], list[tuple[int, _Prepared]]]:
        """Steps 1-2 for a batch: what the whole call needs (scenario, context) raises; a bad
        subject or missing authorisation fails only its own entry."""
        if isinstance(subjects, str | bytes) or not isinstance(subjects, Sequence):
            raise TypeError(
                f"subjects must be a sequence of identifiers, not {type(subjects).__name__}"
            )
        require_type(scenario_given, (str, Scenario), "scenario")
        scenario = Scenario.parse(scenario_given)
        if not isinstance(ctx, QueryContext):
            raise TypeError(f"ctx must be a QueryContext (Art. 23, 25), not {type(ctx).__name__}")
        if authorizations is not None:
            require_type(authorizations, Mapping, "authorizations")
        results: list[CheckResult | None] = [None] * len(subjects)
        prepared: list[tuple[int, _Prepared]] = []
        for i, subject in enumerate(subjects):
            try:
                ident = parse_identifier(subject)
            except TypeError:
                results[i] = CheckResult(
                    i, None, error=InvalidIdentifier("not an identifier", rule="type")
                )
                continue
            except CreditSDKError as err:
                results[i] = CheckResult(i, None, error=err)
                continue
            grant = None
            if authorizations:
                grant = authorizations.get(ident.reveal()) or authorizations.get(
                    subject if isinstance(subject, str) else ident.reveal()
                )
            try:
                prepared.append((i, self._guard(ident, scenario, ctx, grant, as_of)))
            except CreditSDKError as err:
                results[i] = CheckResult(i, ident.masked, error=err)
        return scenario, results, prepared

    def _split_cached(
        self, prepared: list[tuple[int, _Prepared]]
    ) -> tuple[dict[int, CachedReport | PlatformError], list[tuple[int, _Prepared]]]:
        """Step 4 for a batch: fresh cache entries by position, and the subjects to fetch."""
        fetched: dict[int, CachedReport | PlatformError] = {}
        misses: list[tuple[int, _Prepared]] = []
        for i, p in prepared:
            entry = self._cache.get_fresh(p.cache_key)
            if entry is not None:
                fetched[i] = entry
            else:
                misses.append((i, p))
        return fetched, misses

    def _store_answers(
        self,
        fetched: dict[int, CachedReport | PlatformError],
        chunks: Sequence[Sequence[tuple[int, _Prepared]]],
        answers: Sequence[Sequence[CreditReport | PlatformError]],
    ) -> None:
        """Cache each report the platform sent; keep each error for its own subject."""
        for chunk, answer in zip(chunks, answers, strict=True):
            for (i, p), item in zip(chunk, answer, strict=True):
                fetched[i] = (
                    item if isinstance(item, PlatformError) else self._cache.put(p.cache_key, item)
                )


_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def _in_rounds(items: list[_T], size: int) -> list[list[_T]]:
    """A batch in rounds of ``size`` (``batch_size`` × ``batch_concurrency``) subjects: each
    round is logged, fetched, decided and logged again before the next, so a large call holds
    one round of reports at a time rather than all of them (the garbage collector's work grows
    with every object alive, and a five-record report is about a hundred of them)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _chunks(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _failure_policy_env(environ: Mapping[str, str]) -> FailurePolicy:
    """``CREDIT_SDK_FAILURE_POLICY``, ``CREDIT_SDK_MAX_STALENESS`` and
    ``CREDIT_SDK_RAISE_ON_UNAVAILABLE`` (also honoured by ``credit-sdk ... --sandbox``)."""
    mode = (environ.get("CREDIT_SDK_FAILURE_POLICY") or "fail_closed").strip().lower()
    raise_on = _bool_env(environ, "CREDIT_SDK_RAISE_ON_UNAVAILABLE", False)
    if mode == "fail_closed":
        return FailurePolicy.fail_closed(raise_on_unavailable=raise_on)
    if mode == "serve_stale":
        return FailurePolicy.serve_stale(
            _float_env(environ, "CREDIT_SDK_MAX_STALENESS", 3600.0), raise_on_unavailable=raise_on
        )
    raise ConfigurationError("CREDIT_SDK_FAILURE_POLICY must be fail_closed or serve_stale")


def _env_kwargs(environ: Mapping[str, str]) -> dict[str, Any]:
    """Client arguments from ``CREDIT_SDK_*`` variables (see docs/client.md)."""
    base_url = (environ.get("CREDIT_SDK_BASE_URL") or "").strip()
    if not base_url:
        raise ConfigurationError(
            "CREDIT_SDK_BASE_URL is not set: the platform URL is required (no default)"
        )
    token = _read_secret_env("CREDIT_SDK_TOKEN", environ)
    app_id = (environ.get("CREDIT_SDK_APP_ID") or "").strip() or None
    app_secret = _read_secret_env("CREDIT_SDK_APP_SECRET", environ)
    audit_target = (environ.get("CREDIT_SDK_AUDIT_DB") or "").strip()
    if not audit_target:
        raise ConfigurationError(
            "CREDIT_SDK_AUDIT_DB is not set: a durable query log is required (Art. 25); give a "
            "SQLite path or a postgresql:// URL"
        )
    if audit_target in ("memory:", ":memory:"):
        raise ConfigurationError(
            "CREDIT_SDK_AUDIT_DB=memory: is not durable and cannot be a query log in the sense "
            "of Art. 25; use a SQLite path or a postgresql:// URL (or CreditClient.sandbox())"
        )
    key = _read_secret_env("CREDIT_SDK_PSEUDONYM_KEY", environ)
    if key is None:
        raise ConfigurationError(
            "CREDIT_SDK_PSEUDONYM_KEY (or CREDIT_SDK_PSEUDONYM_KEY_FILE) is not set: a hex key of "
            "at least 16 bytes keys the subject pseudonyms in the query log"
        )
    policy = _failure_policy_env(environ)
    kwargs: dict[str, Any] = {
        "base_url": base_url,
        "token": token,
        "app_id": app_id,
        "app_secret": app_secret,
        "pseudonym_key": _pseudonym_key(key, "CREDIT_SDK_PSEUDONYM_KEY"),
        "failure_policy": policy,
        "connect_timeout": _float_env(environ, "CREDIT_SDK_CONNECT_TIMEOUT", 2.0),
        "deadline": _deadline_env(environ),
        "read_timeout": _float_env(environ, "CREDIT_SDK_READ_TIMEOUT", 10.0),
        "cache_ttl": _float_env(environ, "CREDIT_SDK_CACHE_TTL", 60.0),
        "max_list_staleness": _float_env(environ, "CREDIT_SDK_MAX_LIST_STALENESS", 86400.0),
        "outbox_dead_letter_days": _days_env(environ, "CREDIT_SDK_OUTBOX_DEAD_LETTER_DAYS", 7.0),
        "outbox_probe_interval": _probe_interval_env(
            environ, "CREDIT_SDK_OUTBOX_PROBE_INTERVAL", DEFAULT_PROBE_INTERVAL
        ),
        "_audit_target": audit_target,
        # CREDIT_SDK_HOLIDAYS: the operator's holiday arrangement files (Art. 22, 52, 53 dates).
        "holidays": WorkingDayCalendar.from_env(environ),
    }
    ca_bundle = (environ.get("CREDIT_SDK_CA_BUNDLE") or "").strip()
    if ca_bundle:
        kwargs["verify"] = ca_bundle
    kwargs["allow_insecure_http"] = _bool_env(environ, "CREDIT_SDK_ALLOW_INSECURE_HTTP", False)
    if environ.get("CREDIT_SDK_LISTS_DIR"):
        kwargs["lists_dir"] = environ["CREDIT_SDK_LISTS_DIR"]
    if environ.get("CREDIT_SDK_POLICY_PROFILE"):
        kwargs["profile"] = environ["CREDIT_SDK_POLICY_PROFILE"].strip()
    if environ.get("CREDIT_SDK_MAX_RETRIES"):
        text = environ["CREDIT_SDK_MAX_RETRIES"].strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 2 and int(text) <= 10):
            raise ConfigurationError("CREDIT_SDK_MAX_RETRIES must be a whole number from 0 to 10")
        attempts = int(text) + 1
        kwargs["retry"] = RetryPolicy(max_attempts=attempts)
    return kwargs


# --- the blocking client ------------------------------------------------------------------------


class CreditClient(BaseClient):
    """The blocking client. Thread-safe; one per process is the norm (it owns a connection pool,
    a list-sync thread and a feedback thread, started on first use).

    >>> from credit_sdk import CreditClient, QueryContext, Scenario, open_query_log
    >>> client = CreditClient("https://credit.example.gov.cn", token="...",
    ...                       audit=open_query_log("/var/lib/app/credit-audit.db"),
    ...                       pseudonym_key=bytes.fromhex("..."))        # doctest: +SKIP
    >>> with client:                                                     # doctest: +SKIP
    ...     decision = client.check("91230100MA1C2X3Y48", Scenario.BIDDING, ctx)
    """

    _provider: Provider
    _list_thread: threading.Thread | None = None
    _pool: ThreadPoolExecutor | None = None

    def _http_provider(self, config: TransportConfig | None) -> Any:
        assert config is not None
        return HttpProvider(
            SyncTransport(config, breaker=self.breaker, transport=self._http_transport)
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def _start(self) -> None:
        if self._closed:
            raise ConfigurationError("the client is closed")
        pid = os.getpid()
        if self._started_pid == pid:
            return
        with self._state_lock:
            if self._started_pid == pid:
                return
            # First use, or first use in a forked child (the parent's threads do not exist
            # there): start the background threads for this process.
            self._started_pid = pid
            self._sender.start(self._provider)
            if not self._lists.pinned and self.list_sync_interval:
                self._list_thread = threading.Thread(
                    target=self._sync_loop, name="credit-sdk-lists", daemon=True
                )
                self._list_thread.start()

    def _sync_loop(self) -> None:
        interval = self.list_sync_interval or 300.0
        worker = self._list_worker
        worker.started()
        try:
            while not self._stop.is_set():
                wait = interval
                try:
                    with deadline_scope(self.deadline):
                        self._lists.sync(self._provider)
                    self._list_round_done()
                except FATAL:
                    raise
                except Exception as err:  # a worker never dies of an ordinary error
                    wait = self._list_round_failed(err)
                self._stop.wait(wait)
        except BaseException as err:
            worker.died(err)
            # Visible in status().workers and in the log; re-raising would only print a
            # traceback from a thread nobody joins.
            _log.critical("measure-list sync worker stopped: %s", type(err).__name__)
            return
        worker.stopped()

    def close(self) -> None:
        """Stop the background threads and close the connection pool (the query log is the
        caller's: close it yourself). Idempotent."""
        if self._is_view:
            return
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._sender.stop()
        if self._list_thread is not None:
            self._list_thread.join(5.0)
        self._list_worker.stopped()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._provider.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- I/O helpers -------------------------------------------------------------------------

    def _record_intent(self, p: _Prepared, trace_id: str | None) -> None:
        self._audit.record_intent(self._intent(p, trace_id))

    def _apply_retention(self) -> None:
        """Delete archived reports past the archive's retention (at most once an hour); a
        failure is logged and retried later, never failing the check."""
        cutoff = self._retention_cutoff()
        if cutoff is None:
            return
        try:
            self._audit.prune_archive(cutoff)
        except AuditError as err:
            _log.warning("report archive: applying the retention failed: %s", err)

    def _record_completion(self, done: _Conclusion) -> None:
        archived = self._archived([done])
        if archived:  # before the completion: no decision returned without its report kept
            self._audit.archive_reports(archived)
            self._apply_retention()
        self._audit.record_completion(done.completion())

    def _snapshot(self) -> CatalogSnapshot | None:
        snap = self._lists.snapshot
        if snap is None:
            self._lists.sync(self._provider)  # nothing on disk or shipped: try the platform now
            snap = self._lists.snapshot
        return snap

    # -- the API -----------------------------------------------------------------------------

    def check(
        self,
        subject: str | Identifier,
        scenario: Scenario | str,
        ctx: QueryContext,
        *,
        authorization: Authorization | None = None,
        as_of: dt.date | None = None,
    ) -> Decision:
        """Check one subject at one Art. 27 decision point; see the module docstring for the
        eight steps and the failure policy.

        Raises :class:`~credit_sdk.InvalidIdentifier`, :class:`~credit_sdk.InvalidQuery` /
        :class:`~credit_sdk.AuthorizationError` before any I/O; :class:`~credit_sdk.AuditError`
        when the query log cannot be written (fail closed: no decision); a
        :class:`~credit_sdk.PlatformError` only with ``raise_on_unavailable``.
        """
        p = self._prepare(subject, scenario, ctx, authorization, as_of)
        self._start()
        tel = self._telemetry
        if not tel.hooks and not tel.live():
            return self._run(p, None)  # nobody is watching: skip the no-op span machinery
        with tel.check(p.scenario.value) as span:
            info = p.info()
            tel.before(info)
            try:
                decision = self._run(p, span)
            except BaseException as err:
                tel.error(info, err)
                raise
            tel.after(info, decision)
            return decision

    def _run(self, p: _Prepared, span: _Span | None) -> Decision:
        """Steps 3-8 of one check."""
        trace_id = span.trace_id() if span is not None else None
        self._record_intent(p, trace_id)  # 3
        try:
            with deadline_scope(self.deadline):  # one bound for all platform work of the check
                snap = self._snapshot()
                entry = self._cache.get_fresh(p.cache_key)
                cache_hit = entry is not None
                error: PlatformError | None = None
                if entry is None and snap is not None:
                    try:
                        entry = self._cache.put(p.cache_key, self._provider.query_report(p.query()))
                    except PlatformError as err:
                        error = err
            done = self._conclude(p, entry, error, snap, trace_id)
        except BaseException as err:
            self._audit.record_completion(self._failed_completion(p, err, trace_id))
            raise
        self._record_completion(done)  # 7
        if span is not None:
            span.set_decision(done.decision, cache_hit)
        if done.raise_error is not None:
            raise done.raise_error
        return done.decision

    def check_many(
        self,
        subjects: Sequence[str | Identifier],
        scenario: Scenario | str,
        ctx: QueryContext,
        *,
        authorizations: Mapping[str, Authorization] | None = None,
        as_of: dt.date | None = None,
        progress: Progress | None = None,
    ) -> list[CheckResult]:
        """Check many subjects (e.g. every bidder of a tender) through ``reports:batchQuery``
        in chunks of at most 100, ``batch_concurrency`` chunks at a time.

        ``progress(done, total, failures)`` is called after each round of ``batch_size x
        batch_concurrency`` subjects, once the round is logged: ``done`` subjects of ``total``
        have their results, ``failures`` of them without a decision. With it, each round has
        its own deadline; an exception it raises stops the call after that round (every
        finished round stays logged).

        Returns one :class:`CheckResult` per subject, in order: an invalid identifier or a
        missing authorisation fails only its own entry, and a failed chunk only its subjects
        (under the failure policy). Every subject gets its own intent and completion records.
        ``authorizations`` maps a subject (as given) to its :class:`Authorization`.
        An :class:`~credit_sdk.AuditError` fails the whole call closed.
        """
        if progress is not None and subjects:
            collected: list[CheckResult] = []
            for start, part in self._rounds(subjects):
                round_results = self.check_many(
                    part, scenario, ctx, authorizations=authorizations, as_of=as_of
                )
                collected += _shifted(round_results, start)
                progress(len(collected), len(subjects), sum(not r.ok for r in collected))
            return collected
        scen, results, prepared = self._pending_for_batch(
            subjects, scenario, ctx, authorizations, as_of
        )
        self._start()
        if not prepared:
            return [r for r in results if r is not None]
        with self._telemetry.check(scen.value, "credit_sdk.check_many") as span:
            trace_id = span.trace_id()
            snap: list[CatalogSnapshot | None] = []  # one list snapshot for the whole call
            end = None if self.deadline is None else time.monotonic() + self.deadline
            for one in _in_rounds(prepared, self.batch_size * self.batch_concurrency):
                left = None if end is None else max(end - time.monotonic(), 0.0)
                self._check_round(one, results, trace_id, snap, left)
            span.attributes["credit_sdk.batch.size"] = len(prepared)
        return [r for r in results if r is not None]

    def _check_round(
        self,
        part: list[tuple[int, _Prepared]],
        results: list[CheckResult | None],
        trace_id: str | None,
        snap_box: list[CatalogSnapshot | None],
        seconds: float | None,
    ) -> None:
        """Steps 3-7 for one round of a batch (see :func:`_in_rounds`)."""
        # One request time for the round, formatted once when the records are encoded.
        now = dt.datetime.now(dt.UTC)
        self._audit.append([self._intent(p, trace_id, now) for _, p in part])  # 3
        try:
            with deadline_scope(seconds):  # what is left of the one bound for the whole batch
                if not snap_box:
                    snap_box.append(self._snapshot())
                snap = snap_box[0]
                fetched, misses = self._split_cached(part)
                if misses and snap is not None:
                    chunks = _chunks(misses, self.batch_size)

                    def run(
                        chunk: Sequence[tuple[int, _Prepared]],
                    ) -> list[CreditReport | PlatformError]:
                        try:
                            return self._provider.query_reports([p.query() for _, p in chunk])
                        except PlatformError as err:
                            return [err] * len(chunk)

                    if len(chunks) == 1:
                        answers = [run(chunks[0])]
                    else:
                        # Worker threads do not inherit context variables: carry the
                        # deadline over explicitly.
                        context = contextvars.copy_context()
                        answers = list(
                            self._executor().map(lambda c: context.copy().run(run, c), chunks)
                        )
                    self._store_answers(fetched, chunks, answers)
            conclusions = self._conclude_batch(part, fetched, snap, trace_id)
        except BaseException as err:
            self._audit.append([self._failed_completion(p, err, trace_id) for _, p in part])
            raise
        archived = self._archived(c for _, _, c in conclusions)
        if archived:
            self._audit.archive_reports(archived)
            self._apply_retention()
        now = dt.datetime.now(dt.UTC)
        self._audit.append([c.completion(at=now) for _, _, c in conclusions])  # 7
        self._fill_results(results, conclusions)

    def _executor(self) -> ThreadPoolExecutor:
        with self._state_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.batch_concurrency, thread_name_prefix="credit-sdk-batch"
                )
            return self._pool

    def report(
        self,
        subject: str | Identifier,
        ctx: QueryContext,
        *,
        scenario: Scenario | str = Scenario.OTHER,
        authorization: Authorization | None = None,
    ) -> CreditReport:
        """Fetch a subject's credit report (logged like a check, flagged ``REPORT_ONLY``).

        Personal fields in the report stay masked unless revealed explicitly (Art. 24).
        Platform failures raise :class:`~credit_sdk.PlatformError`: there is no decision to
        fail closed to.
        """
        p = self._prepare(subject, scenario, ctx, authorization, None)
        self._start()
        self._audit.record_intent(self._intent(p, None))
        try:
            with deadline_scope(self.deadline):
                report = self._provider.query_report(p.query())
        except BaseException as err:
            self._audit.record_completion(self._report_completion(p, None, err))
            raise
        self._cache.put(p.cache_key, report)
        self._audit.record_completion(self._report_completion(p, report, None))
        return report

    def feedback(
        self,
        decision: Decision,
        *,
        applied: Sequence[str] = (),
        not_applied: Sequence[tuple[str, str]] = (),
        case_id: str,
        implementing_department: str,
        occurred_at: dt.datetime | None = None,
    ) -> list[FeedbackItem]:
        """Art. 46: report which measures were applied and which were not (with the reason).

        The items go to the durable outbox and this returns at once; the background sender
        delivers them. Raises :class:`~credit_sdk.AuditError` if the outbox cannot be written.
        """
        items = self._feedback_items(
            decision, applied, not_applied, case_id, implementing_department, occurred_at
        )
        self._audit.enqueue_feedback(items)
        self._start()
        self._sender.wake()
        return items

    def push_information(
        self, subject: str | Identifier, push: InformationPush, *, organ: str
    ) -> DutyReceipt:
        """Art. 22: push public credit information the organ produced or obtained, with its
        effective legal document, to the platform (within five working days of
        ``push.produced_on``).

        Validated before any I/O, written to the durable outbox, delivered once by the
        background sender (``flush()`` delivers now). The receipt carries the due date and
        whether it is already ``late`` (a late push is still queued, never refused).

        >>> receipt = client.push_information("91230100MA1C2X3Y48", InformationPush(
        ...     record_id="PEN-2026-118", category="food_safety",
        ...     summary="警告并罚款", produced_on=dt.date(2026, 11, 2), document=doc),
        ...     organ="230100-SCJGJ")                                  # doctest: +SKIP
        >>> receipt.due_on                                             # doctest: +SKIP
        datetime.date(2026, 11, 9)
        """
        return self._queue_duty(push, subject, organ)

    def correct_information(
        self, subject: str | Identifier, correction: Correction, *, organ: str
    ) -> DutyReceipt:
        """Art. 52 ¶1: send the correction of information found wrong, invalid or changed
        (within three working days of ``correction.discovered_on``); durable and delivered
        once like :meth:`push_information`."""
        return self._queue_duty(correction, subject, organ)

    def request_basis_update(
        self, subject: str | Identifier, request: BasisUpdateRequest, *, organ: str
    ) -> DutyReceipt:
        """Art. 52 ¶3: the basis of a dishonesty finding was revoked, confirmed illegal or
        invalid, or changed: ask the platform to revoke or change the information (within two
        working days of ``request.changed_on``); durable and delivered once."""
        return self._queue_duty(request, subject, organ)

    def _queue_duty(self, duty: Duty, subject: str | Identifier, organ: str) -> DutyReceipt:
        item, receipt = self._duty(duty, subject, organ)
        self._audit.enqueue_outbox([item])
        self._start()
        self._sender.wake()
        return receipt

    def flush(self, timeout: float = 30.0) -> OutboxStats:
        """Deliver the outbox now (feedback and the organ's duties); return its counts
        (``pending`` > 0 means the platform did not take everything within ``timeout``
        seconds)."""
        return self._sender.flush(self._provider, check_wait(timeout))

    def file_objection(
        self,
        subject: str | Identifier,
        item_id: str,
        reason: str,
        *,
        needs_assistance: bool = False,
        ctx: QueryContext | None = None,
    ) -> ObjectionReceipt:
        """Art. 53: file an objection to a record; returns its id and due dates in working
        days (label within one, decision within three, seven with assistance)."""
        request, key = self._objection_request(subject, item_id, reason, needs_assistance, ctx)
        ack = self._provider.file_objection(request, key)
        return self._receipt(ack, request.needs_assistance)

    def sync_lists(self) -> bool:
        """Sync the measure lists now, within the client's deadline; True when they changed."""
        with deadline_scope(self.deadline):
            return self._lists.sync(self._provider)

    def wait_until_ready(self, timeout: float = 30.0) -> ClientStatus:
        """Block until verified measure lists are available (from the platform, disk or the
        package), trying the platform first; raise :class:`~credit_sdk.PlatformUnavailable`
        after ``timeout`` seconds without any."""
        deadline = self._clock() + check_wait(timeout)
        self._start()
        while True:
            if self._lists.snapshot is not None and (
                self._lists.pinned or self._lists.last_attempt_at is not None
            ):
                return self.status()
            self._lists.sync(self._provider)
            if self._lists.snapshot is not None:
                return self.status()
            if self._clock() >= deadline:
                raise PlatformUnavailable(
                    "no verified measure lists within the timeout: "
                    f"{self._lists.last_error or 'platform unreachable'}"
                )
            self._stop.wait(min(1.0, max(0.0, deadline - self._clock())))

    def status(self) -> ClientStatus:
        """Readiness, list versions and staleness, breaker state, outbox counts, last errors."""
        try:
            outbox: OutboxStats | None = self._audit.outbox_stats()
        except AuditError:
            outbox = None
        return self._status(outbox)

    def health(self) -> Mapping[str, Any]:
        """The platform's health answer (raises :class:`~credit_sdk.PlatformError`)."""
        return self._provider.health()


# --- the async client ---------------------------------------------------------------------------


class AsyncCreditClient(BaseClient):
    """The asyncio client: the same API with ``await``; background work runs as tasks on the
    loop that first uses the client. The query log is written from a worker thread (SQLite and
    PostgreSQL stores block), so the event loop never waits on an fsync.

    >>> async with AsyncCreditClient.from_env() as client:               # doctest: +SKIP
    ...     decision = await client.check("91230100MA1C2X3Y48", "bidding", ctx)
    """

    _provider: AsyncProvider
    _list_task: asyncio.Task[None] | None = None
    _default_pool = 4

    def _adapt_provider(self, provider: Any) -> Any:
        # A MemoryProvider never blocks: it serves the async client through a thin wrapper.
        as_async = getattr(provider, "as_async", None)
        return as_async() if callable(as_async) else provider

    def _http_provider(self, config: TransportConfig | None) -> Any:
        assert config is not None
        return AsyncHttpProvider(
            AsyncTransport(config, breaker=self.breaker, transport=self._http_transport)
        )

    async def _aapply_retention(self) -> None:
        """The async twin of :meth:`CreditClient._apply_retention`."""
        cutoff = self._retention_cutoff()
        if cutoff is None:
            return
        try:
            await self._log(self._audit.prune_archive, cutoff)
        except AuditError as err:
            _log.warning("report archive: applying the retention failed: %s", err)

    async def _log(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._blocking_log:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def _record_failure(self, records: list[QueryCompletion]) -> None:
        """Write the completion records of checks that raised, even when the task is being
        cancelled: shielded, so a second cancellation cannot leave an intent dangling (the
        write then finishes in its thread)."""
        await asyncio.shield(self._log(self._audit.append, records))

    def _start(self) -> None:
        if self._closed:
            raise ConfigurationError("the client is closed")
        if self._started:
            return
        self._started = True
        self._sender.start_task(self._provider)
        if not self._lists.pinned and self.list_sync_interval:
            self._list_task = asyncio.get_running_loop().create_task(
                self._sync_loop(), name="credit-sdk-lists"
            )

    async def _sync_loop(self) -> None:
        interval = self.list_sync_interval or 300.0
        worker = self._list_worker
        worker.started()
        try:
            while not self._stop.is_set():
                wait = interval
                try:
                    with deadline_scope(self.deadline):
                        await self._lists.async_sync(self._provider)
                    self._list_round_done()
                except FATAL:
                    raise
                except Exception as err:  # a worker never dies of an ordinary error
                    wait = self._list_round_failed(err)
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            worker.stopped()
            raise
        except BaseException as err:
            worker.died(err)
            # Visible in status().workers and in the log; re-raising would only print a
            # traceback from a thread nobody joins.
            _log.critical("measure-list sync worker stopped: %s", type(err).__name__)
            return
        worker.stopped()

    async def aclose(self) -> None:
        """Cancel the background tasks and close the connection pool. Idempotent."""
        if self._is_view or self._closed:
            return
        self._closed = True
        self._stop.set()
        await self._sender.astop()
        task, self._list_task = self._list_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._provider.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _snapshot(self) -> CatalogSnapshot | None:
        snap = self._lists.snapshot
        if snap is None:
            await self._lists.async_sync(self._provider)
            snap = self._lists.snapshot
        return snap

    async def check(
        self,
        subject: str | Identifier,
        scenario: Scenario | str,
        ctx: QueryContext,
        *,
        authorization: Authorization | None = None,
        as_of: dt.date | None = None,
    ) -> Decision:
        """Async twin of :meth:`CreditClient.check`."""
        p = self._prepare(subject, scenario, ctx, authorization, as_of)
        self._start()
        tel = self._telemetry
        if not tel.hooks and not tel.live():
            return await self._run(p, None)
        with tel.check(p.scenario.value) as span:
            info = p.info()
            tel.before(info)
            try:
                decision = await self._run(p, span)
            except BaseException as err:
                tel.error(info, err)
                raise
            tel.after(info, decision)
            return decision

    async def _run(self, p: _Prepared, span: _Span | None) -> Decision:
        """Steps 3-8 of one check (async twin of :meth:`CreditClient._run`)."""
        trace_id = span.trace_id() if span is not None else None
        await self._log(self._audit.record_intent, self._intent(p, trace_id))  # 3
        try:
            with deadline_scope(self.deadline):
                snap = await self._snapshot()
                entry = self._cache.get_fresh(p.cache_key)
                cache_hit = entry is not None
                error: PlatformError | None = None
                if entry is None and snap is not None:
                    try:
                        report = await self._provider.query_report(p.query())
                        entry = self._cache.put(p.cache_key, report)
                    except PlatformError as err:
                        error = err
            done = self._conclude(p, entry, error, snap, trace_id)
        except BaseException as err:
            await self._record_failure([self._failed_completion(p, err, trace_id)])
            raise
        archived = self._archived([done])
        if archived:
            await self._log(self._audit.archive_reports, archived)
            await self._aapply_retention()
        await self._log(self._audit.record_completion, done.completion())  # 7
        if span is not None:
            span.set_decision(done.decision, cache_hit)
        if done.raise_error is not None:
            raise done.raise_error
        return done.decision

    async def check_many(
        self,
        subjects: Sequence[str | Identifier],
        scenario: Scenario | str,
        ctx: QueryContext,
        *,
        authorizations: Mapping[str, Authorization] | None = None,
        as_of: dt.date | None = None,
        progress: Progress | None = None,
    ) -> list[CheckResult]:
        """Async twin of :meth:`CreditClient.check_many` (``progress`` is a plain function,
        called between rounds)."""
        if progress is not None and subjects:
            collected: list[CheckResult] = []
            for start, part in self._rounds(subjects):
                round_results = await self.check_many(
                    part, scenario, ctx, authorizations=authorizations, as_of=as_of
                )
                collected += _shifted(round_results, start)
                progress(len(collected), len(subjects), sum(not r.ok for r in collected))
            return collected
        scen, results, prepared = self._pending_for_batch(
            subjects, scenario, ctx, authorizations, as_of
        )
        self._start()
        if not prepared:
            return [r for r in results if r is not None]
        with self._telemetry.check(scen.value, "credit_sdk.check_many") as span:
            trace_id = span.trace_id()
            snap: list[CatalogSnapshot | None] = []  # one list snapshot for the whole call
            end = None if self.deadline is None else time.monotonic() + self.deadline
            for one in _in_rounds(prepared, self.batch_size * self.batch_concurrency):
                left = None if end is None else max(end - time.monotonic(), 0.0)
                await self._check_round(one, results, trace_id, snap, left)
            span.attributes["credit_sdk.batch.size"] = len(prepared)
        return [r for r in results if r is not None]

    async def _check_round(
        self,
        part: list[tuple[int, _Prepared]],
        results: list[CheckResult | None],
        trace_id: str | None,
        snap_box: list[CatalogSnapshot | None],
        seconds: float | None,
    ) -> None:
        """Async twin of :meth:`CreditClient._check_round`."""
        now = dt.datetime.now(dt.UTC)
        await self._log(self._audit.append, [self._intent(p, trace_id, now) for _, p in part])
        try:
            with deadline_scope(seconds):
                if not snap_box:
                    snap_box.append(await self._snapshot())
                snap = snap_box[0]
                fetched, misses = self._split_cached(part)
                if misses and snap is not None:
                    gate = asyncio.Semaphore(self.batch_concurrency)

                    async def run(
                        chunk: Sequence[tuple[int, _Prepared]],
                    ) -> list[CreditReport | PlatformError]:
                        async with gate:
                            try:
                                return await self._provider.query_reports(
                                    [p.query() for _, p in chunk]
                                )
                            except PlatformError as err:
                                return [err] * len(chunk)

                    chunks = _chunks(misses, self.batch_size)
                    answers = await asyncio.gather(*(run(c) for c in chunks))
                    self._store_answers(fetched, chunks, answers)
            conclusions = self._conclude_batch(part, fetched, snap, trace_id)
        except BaseException as err:
            await self._record_failure([self._failed_completion(p, err, trace_id) for _, p in part])
            raise
        archived = self._archived(c for _, _, c in conclusions)
        if archived:
            await self._log(self._audit.archive_reports, archived)
            await self._aapply_retention()
        now = dt.datetime.now(dt.UTC)
        await self._log(self._audit.append, [c.completion(at=now) for _, _, c in conclusions])
        self._fill_results(results, conclusions)

    async def report(
        self,
        subject: str | Identifier,
        ctx: QueryContext,
        *,
        scenario: Scenario | str = Scenario.OTHER,
        authorization: Authorization | None = None,
    ) -> CreditReport:
        """Async twin of :meth:`CreditClient.report`."""
        p = self._prepare(subject, scenario, ctx, authorization, None)
        self._start()
        await self._log(self._audit.record_intent, self._intent(p, None))
        try:
            with deadline_scope(self.deadline):
                report = await self._provider.query_report(p.query())
        except BaseException as err:
            await self._record_failure([self._report_completion(p, None, err)])
            raise
        self._cache.put(p.cache_key, report)
        await self._log(self._audit.record_completion, self._report_completion(p, report, None))
        return report

    async def feedback(
        self,
        decision: Decision,
        *,
        applied: Sequence[str] = (),
        not_applied: Sequence[tuple[str, str]] = (),
        case_id: str,
        implementing_department: str,
        occurred_at: dt.datetime | None = None,
    ) -> list[FeedbackItem]:
        """Async twin of :meth:`CreditClient.feedback`."""
        items = self._feedback_items(
            decision, applied, not_applied, case_id, implementing_department, occurred_at
        )
        await self._log(self._audit.enqueue_feedback, items)
        self._start()
        self._sender.wake()
        return items

    async def push_information(
        self, subject: str | Identifier, push: InformationPush, *, organ: str
    ) -> DutyReceipt:
        """Async twin of :meth:`CreditClient.push_information` (Art. 22)."""
        return await self._queue_duty(push, subject, organ)

    async def correct_information(
        self, subject: str | Identifier, correction: Correction, *, organ: str
    ) -> DutyReceipt:
        """Async twin of :meth:`CreditClient.correct_information` (Art. 52 ¶1)."""
        return await self._queue_duty(correction, subject, organ)

    async def request_basis_update(
        self, subject: str | Identifier, request: BasisUpdateRequest, *, organ: str
    ) -> DutyReceipt:
        """Async twin of :meth:`CreditClient.request_basis_update` (Art. 52 ¶3)."""
        return await self._queue_duty(request, subject, organ)

    async def _queue_duty(self, duty: Duty, subject: str | Identifier, organ: str) -> DutyReceipt:
        item, receipt = self._duty(duty, subject, organ)
        await self._log(self._audit.enqueue_outbox, [item])
        self._start()
        self._sender.wake()
        return receipt

    async def flush(self, timeout: float = 30.0) -> OutboxStats:
        """Async twin of :meth:`CreditClient.flush`."""
        return await self._sender.aflush(self._provider, check_wait(timeout))

    async def file_objection(
        self,
        subject: str | Identifier,
        item_id: str,
        reason: str,
        *,
        needs_assistance: bool = False,
        ctx: QueryContext | None = None,
    ) -> ObjectionReceipt:
        """Async twin of :meth:`CreditClient.file_objection`."""
        request, key = self._objection_request(subject, item_id, reason, needs_assistance, ctx)
        ack = await self._provider.file_objection(request, key)
        return self._receipt(ack, request.needs_assistance)

    async def sync_lists(self) -> bool:
        """Sync the measure lists now, within the client's deadline; True when they changed."""
        with deadline_scope(self.deadline):
            return await self._lists.async_sync(self._provider)

    async def wait_until_ready(self, timeout: float = 30.0) -> ClientStatus:
        """Async twin of :meth:`CreditClient.wait_until_ready`."""
        deadline = self._clock() + check_wait(timeout)
        self._start()
        while True:
            if self._lists.snapshot is not None and (
                self._lists.pinned or self._lists.last_attempt_at is not None
            ):
                return await self.status()
            await self._lists.async_sync(self._provider)
            if self._lists.snapshot is not None:
                return await self.status()
            if self._clock() >= deadline:
                raise PlatformUnavailable(
                    "no verified measure lists within the timeout: "
                    f"{self._lists.last_error or 'platform unreachable'}"
                )
            await asyncio.sleep(min(1.0, max(0.0, deadline - self._clock())))

    async def status(self) -> ClientStatus:
        """Async twin of :meth:`CreditClient.status`."""
        try:
            outbox: OutboxStats | None = await self._log(self._audit.outbox_stats)
        except AuditError:
            outbox = None
        return self._status(outbox)

    async def health(self) -> Mapping[str, Any]:
        """The platform's health answer."""
        return await self._provider.health()
