"""Bulk re-screening: a whole register checked again, optionally on worker processes that
share one query log.

An embedded client never starts processes behind its host's back: :class:`CreditClient` is
threads only. A bulk run is different: an organ re-screening its register when a new list
edition comes out asks for it explicitly, with ``processes=N``. Each worker process builds its
own client from a :class:`ClientConfig` (a description, not a live client: connection pools,
threads and open databases do not cross a process boundary) and writes to the same durable
query log (several processes on one SQLite file take turns; PostgreSQL serves several
hosts). Workers are started with ``spawn`` (or ``forkserver``), never ``fork``: a forked copy
of a host with threads can inherit a lock held by a thread that does not exist in the copy.

The subjects are streamed: they are taken from the iterable a chunk at a time, at most
``2 × processes`` chunks are in flight, and results are yielded in input order, so memory stays
bounded for a register of millions.

What happens when a run stops early (Art. 25: no query unlogged, nothing dropped silently):

* the consumer stops (an exception, ``break``, Ctrl-C): chunks not yet started are cancelled
  (never asked, never logged); chunks already running finish and are logged completely;
* a worker process dies (killed, out of memory): the pool is broken and its other workers are
  stopped too; every subject of every chunk in flight is yielded as a failed
  :class:`CheckResult` whose error says it may have an intent without a completion
  (``audit stats`` counts it as incomplete), then :class:`BulkScreeningError` is raised;
* the overall ``deadline`` passes: no further chunk is started; subjects already taken but not
  checked are yielded as failed (never asked, never logged), then :class:`BulkScreeningError`
  is raised. Its ``next_index`` is where to resume.

>>> config = ClientConfig("https://credit.example.gov.cn", token="...",
...                       audit="/var/lib/app/credit-audit.db", pseudonym_key=key_hex)
... # doctest: +SKIP
>>> with BulkScreening(config, processes=2) as bulk:                     # doctest: +SKIP
...     for result in bulk.screen(register, Scenario.ADMIN_LICENSING, ctx, deadline=3600):
...         store(result.index, result.decision)
"""

from __future__ import annotations

import collections
import concurrent.futures
import importlib
import itertools
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Self

from credit_sdk._errors import (
    BulkScreeningError,
    ConfigurationError,
    CreditSDKError,
    require_type,
)

if TYPE_CHECKING:
    import datetime as dt
    from types import TracebackType

    from credit_sdk._audit import QueryLog
    from credit_sdk._client import CheckResult, CreditClient
    from credit_sdk._identifiers import Identifier
    from credit_sdk._query import Authorization, QueryContext
    from credit_sdk._scenarios import Scenario

__all__ = ["BulkScreening", "ClientConfig"]

#: Subjects per chunk of work handed to one worker at a time (about one round of
#: ``check_many``: ``batch_size`` 100 × ``batch_concurrency`` 4, and a little more).
DEFAULT_CHUNK = 500
MAX_CHUNK = 10_000
MAX_PROCESSES = 64
#: How long a chunk may run past its own deadline before its worker is taken for hung (the
#: query log's own timeouts and the process start-up come on top of the platform's bound).
_GRACE = 60.0
_START_METHODS = ("spawn", "forkserver")


class ClientConfig:
    """How each worker of a :class:`BulkScreening` builds its own :class:`CreditClient`:
    the client's keyword arguments, with the query log given by its location.

    ``audit`` is a SQLite path or a ``postgresql://`` URL (never ``memory:``: a bulk run is
    logged durably, Art. 25); ``audit_options`` go to :func:`open_query_log`. Everything else is
    what :class:`CreditClient` takes (``token`` or ``app_id`` + ``app_secret``, ``profile``,
    ``lists_dir``, ``catalog``, ``failure_policy``, ``deadline``, ``batch_size`` ...), and must
    be picklable, since it is sent to each worker. ``provider`` is a picklable callable that
    returns a provider, called once in each worker (another gateway, or a test platform).
    Secrets (the credential, the pseudonym key, a password in the log's URL) never appear in
    its ``repr``.

    >>> config = ClientConfig("https://credit.example.gov.cn", token="secret-token",
    ...                       audit="/var/lib/app/audit.db", pseudonym_key="5a" * 32)
    >>> config
    ClientConfig('https://credit.example.gov.cn', auth=bearer, audit=sqlite, options=[])
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        audit: str | os.PathLike[str],
        pseudonym_key: bytes | str,
        token: str | None = None,
        app_id: str | None = None,
        app_secret: bytes | str | None = None,
        provider: Callable[[], Any] | None = None,
        audit_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        from credit_sdk._audit import QueryLog
        from credit_sdk._client import _credentials, _pseudonym_key

        if isinstance(audit, QueryLog):
            raise ConfigurationError(
                "audit= takes where the query log is (a SQLite path or a postgresql:// URL): "
                "each worker process opens it itself"
            )
        require_type(audit, (str, os.PathLike), "audit")
        target = os.fspath(audit).strip()
        if not target:
            raise ConfigurationError(
                "a query log is required (Art. 25): audit= a SQLite path or a postgresql:// URL"
            )
        if target in ("memory:", ":memory:"):
            raise ConfigurationError(
                "audit=memory: is not durable and worker processes cannot share it (Art. 25): "
                "give a SQLite path or a postgresql:// URL"
            )
        if "audit" in options or "http_transport" in options:
            raise ConfigurationError("audit and http_transport cannot be sent to a worker")
        self.pseudonym_key = _pseudonym_key(pseudonym_key)
        if provider is None:
            if not base_url:
                raise ConfigurationError(
                    "the platform URL is required: base_url=... (or provider=... a factory)"
                )
            _credentials(None, token, app_id, app_secret)  # one complete credential
        elif not callable(provider):
            raise TypeError("provider must be a callable that returns a provider")
        elif any(x is not None for x in (token, app_id, app_secret)):
            raise ConfigurationError("credentials belong to the provider when one is given")
        self.base_url = base_url
        self.audit = target
        self.token = token
        self.app_id = app_id
        self.app_secret = app_secret
        self.provider = provider
        self.audit_options = dict(audit_options or {})
        self.options = dict(options)
        self._sandbox = False
        for name, value in (
            ("provider", provider),
            *(("audit_options", v) for v in self.audit_options.values()),
            *self.options.items(),
        ):
            try:
                pickle.dumps(value)
            except Exception:  # the value itself is never echoed: it may be a secret
                raise TypeError(
                    f"{name} cannot be sent to a worker process (it does not pickle): give a "
                    "value, a path, or a module-level function instead"
                ) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """The configuration :meth:`CreditClient.from_env` would use (``CREDIT_SDK_*``
        variables, checked here, before any worker starts), with ``overrides``.

        >>> config = ClientConfig.from_env()                             # doctest: +SKIP
        """
        from credit_sdk._client import _env_kwargs

        kwargs = _env_kwargs(os.environ if environ is None else environ)
        kwargs["audit"] = kwargs.pop("_audit_target")
        kwargs.update(overrides)
        return cls(**kwargs)

    @classmethod
    def sandbox(
        cls,
        url: str,
        *,
        token: str,
        audit: str | os.PathLike[str],
        pseudonym_key: bytes | str | None = None,
        **options: Any,
    ) -> ClientConfig:
        """What :meth:`CreditClient.sandbox` builds, for development against the sandbox:
        without ``pseudonym_key``, one random key for this run, shared by its workers.

        >>> config = ClientConfig.sandbox("http://127.0.0.1:8765", token="sandbox-token",
        ...                               audit="/tmp/sandbox-audit.db")     # doctest: +SKIP
        """
        import secrets

        key = pseudonym_key if pseudonym_key is not None else secrets.token_bytes(32)
        config = cls(url, token=token, audit=audit, pseudonym_key=key, **options)
        config._sandbox = True
        return config

    def __repr__(self) -> str:
        if self.provider is not None:
            auth = "provider"
        elif self.token is not None:
            auth = "bearer"
        else:
            auth = "hmac"
        kind = "postgresql" if self.audit.lower().startswith("postgres") else "sqlite"
        where = repr(self.base_url) if self.base_url is not None else "provider"
        return f"ClientConfig({where}, auth={auth}, audit={kind}, options={sorted(self.options)})"

    def open(self) -> tuple[CreditClient, QueryLog]:
        """A client built from this configuration and the query log it writes to; close both
        (the client first). This is what each worker process does once.

        >>> client, log = config.open()                                  # doctest: +SKIP
        """
        from credit_sdk._audit import open_query_log
        from credit_sdk._client import CreditClient

        log = open_query_log(self.audit, **self.audit_options)
        try:
            kwargs: dict[str, Any] = dict(self.options)
            if self.provider is not None:
                kwargs["provider"] = self.provider()
            else:
                kwargs.update(token=self.token, app_id=self.app_id, app_secret=self.app_secret)
            if self._sandbox and self.base_url is not None:
                client = CreditClient.sandbox(
                    self.base_url, audit=log, pseudonym_key=self.pseudonym_key, **kwargs
                )
            else:
                client = CreditClient(
                    self.base_url, audit=log, pseudonym_key=self.pseudonym_key, **kwargs
                )
        except BaseException:
            log.close()
            raise
        return client, log


# --- one chunk of work, in a worker process (or in the caller's, with processes=1) --------------

_Packed = tuple[str, str, str, dict[str, Any]]
_Row = tuple[int, "str | None", Any, "_Packed | None"]


def _pack(err: BaseException) -> _Packed:
    """An SDK error as plain data: several of them take keyword-only arguments that pickle's
    default for exceptions does not pass back."""
    cls = type(err)
    return (cls.__module__, cls.__qualname__, str(err), dict(vars(err)))


def _unpack(packed: _Packed) -> CreditSDKError:
    module, name, message, state = packed
    cls: Any = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, CreditSDKError)):
        return BulkScreeningError(message)
    err: CreditSDKError = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class _Worker:
    """A client built on first use from a configuration: one per worker process (or one per
    :class:`BulkScreening` with ``processes=1``)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.client: CreditClient | None = None
        self.log: QueryLog | None = None

    def get(self) -> CreditClient:
        if self.client is None:
            self.client, self.log = self.config.open()
            # One list sync first, as the command line does: decide on the platform's
            # verified lists, not on the shipped ones flagged stale (returns on the
            # last-known-good ones when the platform is down).
            self.client.wait_until_ready(timeout=10.0)
        return self.client

    def close(self) -> None:
        client, log = self.client, self.log
        self.client = self.log = None
        try:
            if client is not None:
                client.close()
        finally:
            if log is not None:
                log.close()


#: This worker process's client (set by the pool's initializer).
_PROCESS_WORKER: _Worker | None = None


def _init_worker(config: ClientConfig) -> None:
    from multiprocessing import util

    global _PROCESS_WORKER
    # Ctrl-C reaches the whole process group: the caller decides what stops, and a chunk a
    # worker has started is finished and logged.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _PROCESS_WORKER = _Worker(config)
    util.Finalize(None, _PROCESS_WORKER.close, exitpriority=10)


def _screen_in_worker(*args: Any) -> tuple[list[_Row] | None, _Packed | None]:
    assert _PROCESS_WORKER is not None
    return _screen_chunk(_PROCESS_WORKER, *args)


def _not_checked(start: int, count: int, why: str) -> list[_Row]:
    err = _pack(BulkScreeningError(why))
    return [(start + i, None, None, err) for i in range(count)]


def _screen_chunk(
    worker: _Worker,
    start: int,
    subjects: list[str | Identifier],
    scenario: Scenario,
    ctx: QueryContext,
    authorizations: dict[Any, Any] | None,
    as_of: dt.date | None,
    end: float | None,
) -> tuple[list[_Row] | None, _Packed | None]:
    """``check_many`` of one chunk: ``(rows, None)``, or ``(None, error)`` when the whole chunk
    failed (the query log, the configuration). ``end`` is the run's deadline on the monotonic
    clock, which all processes of one machine share."""
    seconds: float | None = None
    if end is not None:
        seconds = end - time.monotonic()
        if seconds <= 0:
            return _not_checked(
                start, len(subjects), "not checked: the screening's deadline had passed"
            ), None
    try:
        client = worker.get()
        if seconds is not None and seconds < client.deadline:
            client = client.with_options(deadline=seconds)
        grants = None
        if authorizations:
            grants = {s: _rebound(s, g) for s, g in authorizations.items()}
        results = client.check_many(subjects, scenario, ctx, authorizations=grants, as_of=as_of)
    except CreditSDKError as err:
        return None, _pack(err)
    except Exception as err:  # a bug: its message may quote data, so only its class crosses
        return None, _pack(BulkScreeningError(f"a worker failed: {type(err).__name__}"))
    return [
        (start + r.index, r.subject, r.decision, None if r.error is None else _pack(r.error))
        for r in results
    ], None


def _portable(subject: Any, grant: Authorization) -> Any:
    """An authorisation as it can cross to a worker. A grant keeps only a digest of its
    subject under a key of its own process, so a worker could not tell whom it binds: one the
    caller's process has seen bind ``subject`` goes as its fields, and the worker binds it to
    that subject again. Any other goes as it is (and is refused there, as it would be here)."""
    from credit_sdk._query import Authorization

    try:
        if not isinstance(grant, Authorization) or not grant.binds(subject):
            return grant
    except ValueError:  # an invalid identifier: its own entry fails in the worker
        return grant
    return (grant.grant_id, grant.scope, grant.purpose, grant.granted_on, grant.expires_on,
            grant.blanket)  # fmt: skip


def _rebound(subject: Any, grant: Any) -> Authorization:
    from credit_sdk._query import Authorization

    if isinstance(grant, tuple):
        grant_id, scope, purpose, granted_on, expires_on, blanket = grant
        return Authorization(
            grant_id=grant_id,
            scope=scope,
            purpose=purpose,
            granted_on=granted_on,
            expires_on=expires_on,
            subject=subject,
            blanket=blanket,
        )
    result: Authorization = grant
    return result


def _result(row: _Row) -> CheckResult:
    from credit_sdk._client import CheckResult

    index, subject, decision, error = row
    return CheckResult(index, subject, decision, None if error is None else _unpack(error))


class _Done:
    """A chunk run in the caller's own process (``processes=1``), when it is waited for."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call

    def result(self, timeout: float | None = None) -> Any:
        return self._call()

    def cancel(self) -> bool:
        return True


class BulkScreening:
    """Re-screen many subjects, in this process (``processes=1``, the default: nothing is
    started) or on worker processes sharing one query log (``processes=N``; ``None`` or ``0``:
    one per CPU). Each worker builds its own client from ``config``.

    Use it as a context manager (or call :meth:`close`): the workers start with the first
    :meth:`screen` and stay for the next one until closed. ``chunk_size`` subjects go to a
    worker at a time; ``start_method`` is ``"spawn"`` (default) or ``"forkserver"``, never
    ``"fork"``. With ``spawn`` the host's main module is imported again in each worker, so a
    script guards its entry point with ``if __name__ == "__main__":``.

    >>> with BulkScreening(config, processes=2) as bulk:                 # doctest: +SKIP
    ...     results = list(bulk.screen(subjects, "bidding", ctx, deadline=600))
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        processes: int | None = 1,
        chunk_size: int = DEFAULT_CHUNK,
        start_method: str = "spawn",
    ) -> None:
        require_type(config, ClientConfig, "config")
        if processes is None or processes == 0:
            processes = os.cpu_count() or 1
        if isinstance(processes, bool) or not isinstance(processes, int):
            raise TypeError("processes must be a whole number")
        if not 1 <= processes <= MAX_PROCESSES:
            raise ConfigurationError(f"processes must be 1-{MAX_PROCESSES} (or None: one per CPU)")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
            raise TypeError("chunk_size must be a whole number")
        if not 1 <= chunk_size <= MAX_CHUNK:
            raise ConfigurationError(f"chunk_size must be 1-{MAX_CHUNK}")
        if start_method not in _START_METHODS:
            raise ConfigurationError(
                "start_method must be spawn or forkserver (fork copies a host's threads' locks "
                "in whatever state they are)"
            )
        self.config = config
        self.processes = processes
        self.chunk_size = chunk_size
        self.start_method = start_method
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._inline = _Worker(config)
        self._closed = False

    def __repr__(self) -> str:
        return f"BulkScreening({self.config!r}, processes={self.processes})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (each closes its client and query log) or this process's client.
        Idempotent."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._inline.close()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=_init_worker,
                initargs=(self.config,),
            )
        return self._pool

    def _submit(self, *args: Any) -> Any:
        if self.processes == 1:
            return _Done(lambda: _screen_chunk(self._inline, *args))
        return self._executor().submit(_screen_in_worker, *args)

    def screen(
        self,
        subjects: Iterable[str | Identifier],
        scenario: Scenario | str,
        ctx: QueryContext,
        *,
        authorizations: Mapping[Any, Authorization] | None = None,
        as_of: dt.date | None = None,
        deadline: float | None = None,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> Iterator[CheckResult]:
        """Check every subject as :meth:`CreditClient.check_many` would, yielding one
        :class:`CheckResult` per subject in input order (``index`` counts from 0).

        ``authorizations`` maps a subject (as given) to its :class:`Authorization`.
        ``deadline`` bounds the whole run in seconds (each chunk is also bounded by the
        client's own ``deadline``). ``progress(done, total, failures)`` is called after each
        chunk's results are yielded; ``total`` is ``len(subjects)`` when it has one, else the
        subjects taken so far. An :class:`AuditError` (or another error of a whole chunk)
        stops the run and is raised after the chunks before it; see the module docstring for
        what an early stop leaves in the log.
        """
        from credit_sdk._deadline import check_wait
        from credit_sdk._query import QueryContext
        from credit_sdk._scenarios import Scenario

        if self._closed:
            raise ConfigurationError("this BulkScreening is closed")
        if isinstance(subjects, str | bytes):
            raise TypeError("subjects must be an iterable of identifiers, not one string")
        scen = Scenario.parse(scenario) if isinstance(scenario, str) else scenario
        require_type(scen, Scenario, "scenario")
        require_type(ctx, QueryContext, "ctx")
        end = None if deadline is None else time.monotonic() + check_wait(deadline, "deadline")
        total = len(subjects) if isinstance(subjects, Sized) else None
        return self._run(iter(subjects), scen, ctx, authorizations, as_of, end, total, progress)

    def _run(
        self,
        items: Iterator[str | Identifier],
        scenario: Scenario,
        ctx: QueryContext,
        authorizations: Mapping[Any, Authorization] | None,
        as_of: dt.date | None,
        end: float | None,
        total: int | None,
        progress: Callable[[int, int, int], None] | None,
    ) -> Iterator[CheckResult]:
        in_flight: collections.deque[tuple[int, int, Any]] = collections.deque()
        limit = 2 * self.processes if self.processes > 1 else 1
        taken = done = failures = 0
        exhausted = False
        finished = False
        try:
            while True:
                while len(in_flight) < limit and not exhausted and not _passed(end):
                    chunk = list(itertools.islice(items, self.chunk_size))
                    if not chunk:
                        exhausted = True
                        break
                    grants = None
                    if authorizations:
                        grants = {
                            s: _portable(s, authorizations[s]) for s in chunk if s in authorizations
                        }
                    try:
                        future = self._submit(
                            taken, chunk, scenario, ctx, grants or None, as_of, end
                        )
                    except BrokenProcessPool as err:
                        # A worker died since the last result: the chunk just taken was never
                        # sent. It is reported with those in flight, below, never dropped.
                        future = concurrent.futures.Future()
                        future.set_exception(err)
                        in_flight.append((taken, len(chunk), future))
                        taken += len(chunk)
                        break
                    in_flight.append((taken, len(chunk), future))
                    taken += len(chunk)
                if not in_flight:
                    break
                start, count, future = in_flight.popleft()
                try:
                    rows, error = future.result(timeout=self._wait(end))
                except (BrokenProcessPool, concurrent.futures.TimeoutError):
                    lost = [(start, count), *((s, n) for s, n, _ in in_flight)]
                    in_flight.clear()
                    self._abandon()
                    why = (
                        "lost with its worker process (killed or hung): its query may be logged "
                        "without a completion (see the query log's incomplete count)"
                    )
                    for s, n in lost:
                        for row in _not_checked(s, n, why):
                            yield _result(row)
                    raise BulkScreeningError(
                        f"a worker process of the screening ended: {taken} subjects taken, "
                        f"the last {taken - start} without a result",
                        next_index=taken,
                    ) from None
                if error is not None:
                    raise _unpack(error)
                assert rows is not None
                for row in rows:
                    failures += row[2] is None
                    yield _result(row)
                done += len(rows)
                if progress is not None:
                    progress(done, total if total is not None else taken, failures)
            if not exhausted:
                if next(items, _END) is not _END:
                    raise BulkScreeningError(
                        f"the screening's deadline passed after {taken} subjects",
                        next_index=taken,
                    )
                exhausted = True
            finished = True
        finally:
            if not finished:
                # The caller stopped (or an error did): what has not started never will, and
                # what has started finishes and is logged.
                for _, _, future in in_flight:
                    future.cancel()
                if self._pool is not None:
                    for _, _, future in in_flight:
                        _settle(future, self._wait(end))

    def _wait(self, end: float | None) -> float:
        """How long to wait for a chunk: its deadline and the client's, and the grace."""
        bound = float(self.config.options.get("deadline", 5.0))
        if end is not None:
            bound = min(bound, max(end - time.monotonic(), 0.0))
        # A queued chunk waits for the ones before it: at most one chunk per worker ahead.
        return (bound + _GRACE) * 2

    def _abandon(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                if proc.is_alive():
                    proc.kill()
            pool.shutdown(wait=True, cancel_futures=True)


_END = object()


def _passed(end: float | None) -> bool:
    return end is not None and time.monotonic() >= end


def _settle(future: Any, timeout: float) -> None:
    try:
        future.result(timeout=timeout)
    except BaseException:  # its own outcome is already in the log; the caller's error wins
        return
