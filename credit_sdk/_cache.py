"""Caches: reports per subject pseudonym, and measure lists as verified, versioned snapshots.

**Reports.** A :class:`ReportCache` keeps reports under the subject's pseudonym (never the raw
identifier) in a ``cachetools.TTLCache`` bounded in size and age. Entries younger than ``ttl``
are *fresh* and answer checks directly; older ones are kept up to ``retention`` seconds only so
that the ``serve_stale`` failure policy can use them while the platform is down. A
plain lock guards it: no code awaits while holding it, so the same cache is safe from threads
and from coroutines (cachetools' decorators do not support ``async def``, so none is used).
Decisions are pure functions of (report, scenario, date, lists, profile), so each entry also
memoises the decisions made from it.

**Measure lists.** A :class:`ListStore` holds the current snapshot (a validated
:class:`~credit_sdk.Catalog` and the ``(list_id, version, sha256)`` of each edition). A sync asks
the platform's index with ``If-None-Match``; on a change it fetches only the editions it lacks,
verifies each one's sha256 against the index and its ETag, validates the whole catalog, and only
then switches, atomically. The verified bytes and a manifest are written to ``lists_dir``
(temp file + ``os.replace``), so a restart without the platform still decides on the last
verified lists. Past ``max_staleness`` without a successful sync, decisions carry the
``STALE_LISTS`` flag.

>>> cache = ReportCache(maxsize=100, ttl=60, retention=3600)
>>> cache.get_fresh("ab" * 32) is None
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cachetools import TTLCache

from credit_sdk._bounded import loads
from credit_sdk._catalog import Catalog, MeasureList
from credit_sdk._decision import Decision
from credit_sdk._errors import CatalogError, ConfigurationError, PlatformError
from credit_sdk._models import CreditReport
from credit_sdk._providers import (
    AsyncProvider,
    FetchedList,
    ListIndex,
    ListIndexEntry,
    Provider,
)
from credit_sdk._replay import report_bytes

__all__ = ["CachedReport", "CatalogSnapshot", "ListStore", "ReportCache"]

_log = logging.getLogger("credit_sdk.cache")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(slots=True)
class CachedReport:
    report: CreditReport
    fetched_at: float  # clock() seconds
    decisions: dict[Hashable, Decision] = field(default_factory=dict)
    # report_digest(report), computed once when the first completion record needs it
    # ("" when the report has no canonical bytes).
    digest: str | None = None

    def report_sha256(self) -> str | None:
        """The digest the completion record carries (see credit_sdk._replay)."""
        if self.digest is None:
            data = report_bytes(self.report)
            self.digest = "" if data is None else hashlib.sha256(data).hexdigest()
            # Keep the canonical bytes (for the archive), not the screened objects they came from.
            self.report._canonical = data
            self.report._screened = None
        return self.digest or None


class ReportCache:
    """Reports by ``(pseudonym, authorization id)``; fresh for ``ttl`` s, kept ``retention`` s."""

    def __init__(
        self,
        *,
        maxsize: int = 10_000,
        ttl: float = 60.0,
        retention: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 0 or ttl < 0:
            raise ConfigurationError("cache size and ttl may not be negative")
        self.ttl = ttl
        self.retention = max(ttl, retention or 0.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._enabled = maxsize > 0 and self.retention > 0
        self._data: TTLCache[Hashable, CachedReport] = TTLCache(
            maxsize=max(maxsize, 1), ttl=max(self.retention, 1e-9), timer=clock
        )

    def put(self, key: Hashable, report: CreditReport) -> CachedReport:
        entry = CachedReport(report, self._clock())
        if self._enabled:
            with self._lock:
                self._data[key] = entry
        return entry

    def _get(self, key: Hashable) -> CachedReport | None:
        if not self._enabled:
            return None
        with self._lock:
            return self._data.get(key)

    def get_fresh(self, key: Hashable) -> CachedReport | None:
        """The entry if it is younger than ``ttl``."""
        entry = self._get(key)
        if entry is not None and self._clock() - entry.fetched_at <= self.ttl:
            return entry
        return None

    def get_stale(self, key: Hashable, max_staleness: float) -> CachedReport | None:
        """The entry if it is younger than ``max_staleness`` (for the ``serve_stale`` policy)."""
        entry = self._get(key)
        if entry is not None and self._clock() - entry.fetched_at <= max_staleness:
            return entry
        return None

    def age(self, entry: CachedReport) -> float:
        return self._clock() - entry.fetched_at

    def invalidate(self, key: Hashable | None = None) -> None:
        """Drop one entry, or all of them."""
        with self._lock:
            if key is None:
                self._data.clear()
            else:
                self._data.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __repr__(self) -> str:
        return f"ReportCache(entries={len(self)}, ttl={self.ttl:g}s, retention={self.retention:g}s)"


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """The measure lists decisions are made on right now, and where they came from.

    ``source`` is ``platform`` (synced), ``disk`` (last-known-good from an earlier run),
    ``shipped`` (the lists in the package) or ``pinned`` (given to the client explicitly).
    ``synced_at`` is the last time the platform confirmed these lists (``None``: never).
    """

    catalog: Catalog
    refs: tuple[tuple[str, str, str], ...]
    source: str
    synced_at: dt.datetime | None
    etag: str | None = None
    raw: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[tuple[str, str, str], ...]:
        return self.refs


def _refs(lists: Sequence[MeasureList]) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted(lst.ref for lst in lists))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ListStore:
    """The current measure-list snapshot, its sync with the platform, and its copy on disk.

    >>> store = ListStore(pinned=Catalog(()))  # doctest: +SKIP
    """

    MANIFEST = "manifest.json"

    def __init__(
        self,
        *,
        lists_dir: Path | None = None,
        pinned: Catalog | None = None,
        max_staleness: float = 24 * 3600.0,
        use_shipped: bool = True,
        now: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.lists_dir = lists_dir
        self.max_staleness = max_staleness
        self._now = now
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.last_error: str | None = None
        self.last_attempt_at: dt.datetime | None = None
        self.pinned = pinned is not None
        self._snapshot: CatalogSnapshot | None = None
        if pinned is not None:
            self._snapshot = CatalogSnapshot(pinned, _refs(pinned.lists), "pinned", None)
        else:
            self._snapshot = self._load_disk() or (self._load_shipped() if use_shipped else None)

    # -- reading -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        return self._snapshot

    def is_stale(self, snapshot: CatalogSnapshot | None = None) -> bool:
        snap = snapshot if snapshot is not None else self._snapshot
        if snap is None:
            return True
        if snap.source == "pinned":
            return False
        if snap.synced_at is None:
            return True
        return (self._now() - snap.synced_at).total_seconds() > self.max_staleness

    # -- startup sources -----------------------------------------------------------------------

    def _load_shipped(self) -> CatalogSnapshot | None:
        try:
            catalog = Catalog.default()
        except CatalogError as err:
            _log.warning("no shipped measure lists usable: %s", err)
            return None
        return CatalogSnapshot(catalog, _refs(catalog.lists), "shipped", None)

    def _load_disk(self) -> CatalogSnapshot | None:
        if self.lists_dir is None:
            return None
        manifest_path = self.lists_dir / self.MANIFEST
        if not manifest_path.is_file():
            return None
        try:
            manifest = loads(
                manifest_path.read_bytes(),
                what="the list manifest",
                error=lambda message: CatalogError(message, rule="format"),
            )
            if not isinstance(manifest, dict):
                raise CatalogError("the list manifest is not an object", rule="format")
            lists = []
            raw: dict[str, bytes] = {}
            for entry in manifest["lists"]:
                digest = str(entry["sha256"])
                data = (self.lists_dir / f"{digest}.json").read_bytes()
                lst = MeasureList.from_json(data, source=f"{entry['list_id']}@{entry['version']}")
                if lst.sha256 != digest or (lst.list_id, lst.version) != (
                    entry["list_id"],
                    entry["version"],
                ):
                    raise CatalogError(
                        "a list on disk does not match its manifest", rule="integrity"
                    )
                lists.append(lst)
                raw[digest] = data
            catalog = Catalog(tuple(lists))
            synced = manifest.get("synced_at")
            synced_at = dt.datetime.fromisoformat(synced) if synced else None
        except (OSError, ValueError, KeyError, TypeError, CatalogError) as err:
            # A damaged last-known-good is ignored, never half-used: shipped lists or a sync
            # take over, and the reason is logged for the operator.
            _log.error("ignoring the measure-list copy on disk: %s", err)
            return None
        return CatalogSnapshot(catalog, _refs(lists), "disk", synced_at, manifest.get("etag"), raw)

    # -- sync (the I/O is the provider's; planning and switching are shared) --------------------

    def _plan(self, index: ListIndex) -> tuple[dict[str, FetchedList], list[ListIndexEntry]]:
        """Editions we already hold (by sha256) and the ones to fetch."""
        have: dict[str, FetchedList] = {}
        snap = self._snapshot
        if snap is not None:
            by_sha = {lst.sha256: lst for lst in snap.catalog.lists}
            for digest, data in snap.raw.items():
                if digest in by_sha:
                    have[digest] = FetchedList(by_sha[digest], data)
        missing = [e for e in index.entries if e.sha256 not in have]
        return have, missing

    def _install(
        self, index: ListIndex, have: dict[str, FetchedList], fetched: Sequence[FetchedList]
    ) -> CatalogSnapshot:
        by_sha = {**have, **{f.measure_list.sha256: f for f in fetched}}
        chosen = [by_sha[e.sha256] for e in index.entries]
        if not chosen:
            raise PlatformError("the platform's measure-list index is empty; keeping our lists")
        try:
            catalog = Catalog(tuple(f.measure_list for f in chosen))
        except CatalogError as err:
            raise PlatformError(f"the platform's lists do not form a valid catalog: {err}") from err
        snap = CatalogSnapshot(
            catalog,
            _refs([f.measure_list for f in chosen]),
            "platform",
            self._now(),
            index.etag,
            {f.measure_list.sha256: f.raw for f in chosen},
        )
        self._persist(snap)
        with self._lock:
            self._snapshot = snap  # the switch: readers see the old or the new, never a mix
        return snap

    def _confirmed(self, etag: str | None) -> None:
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.source in ("platform", "disk"):
                self._snapshot = CatalogSnapshot(
                    snap.catalog, snap.refs, snap.source, self._now(), etag or snap.etag, snap.raw
                )
                self._persist(self._snapshot)

    def _fail(self, err: BaseException) -> None:
        self.last_error = f"{type(err).__name__}: {err}"
        _log.warning("measure-list sync failed; keeping the current lists: %s", self.last_error)

    def sync(self, provider: Provider) -> bool:
        """One sync round (blocking). Returns True when the lists changed."""
        if self.pinned:
            return False
        with self._sync_lock:
            try:
                snap = self._snapshot
                etag = (
                    snap.etag if snap is not None and snap.source in ("platform", "disk") else None
                )
                index = provider.list_index(etag)
                if index is None:
                    self._confirmed(etag)
                    self.last_error = None
                    return False
                have, missing = self._plan(index)
                fetched = [provider.fetch_list(e) for e in missing]
                self._install(index, have, fetched)
                self.last_error = None
                return True
            except PlatformError as err:
                self._fail(err)
                return False
            finally:
                self.last_attempt_at = self._now()

    async def async_sync(self, provider: AsyncProvider) -> bool:
        """One sync round (async twin of :meth:`sync`)."""
        if self.pinned:
            return False
        try:
            snap = self._snapshot
            etag = snap.etag if snap is not None and snap.source in ("platform", "disk") else None
            index = await provider.list_index(etag)
            if index is None:
                self._confirmed(etag)
                self.last_error = None
                return False
            have, missing = self._plan(index)
            fetched = [await provider.fetch_list(e) for e in missing]
            self._install(index, have, fetched)
            self.last_error = None
            return True
        except PlatformError as err:
            self._fail(err)
            return False
        finally:
            self.last_attempt_at = self._now()

    # -- disk ----------------------------------------------------------------------------------

    def _persist(self, snap: CatalogSnapshot) -> None:
        if self.lists_dir is None:
            return
        try:
            self.lists_dir.mkdir(parents=True, exist_ok=True)
            for digest, data in snap.raw.items():
                target = self.lists_dir / f"{digest}.json"
                if not target.exists():
                    _atomic_write(target, data)
            manifest = {
                "format": 1,
                "etag": snap.etag,
                "synced_at": snap.synced_at.isoformat() if snap.synced_at else None,
                "lists": [
                    {"list_id": lid, "version": ver, "sha256": sha} for lid, ver, sha in snap.refs
                ],
            }
            # The manifest goes last: a crash before it leaves the previous, complete set.
            _atomic_write(
                self.lists_dir / self.MANIFEST, json.dumps(manifest, indent=1).encode("utf-8")
            )
            keep = {f"{sha}.json" for _, _, sha in snap.refs}
            for stale in self.lists_dir.glob("*.json"):
                # Only editions this store wrote (named by their sha256) are ever removed.
                if _HEX64.fullmatch(stale.stem) and stale.name not in keep:
                    stale.unlink(missing_ok=True)
        except OSError as err:
            # Deciding goes on with the verified lists in memory; only restart resilience suffers.
            _log.error("could not keep the measure lists on disk: %s", err)

    def describe(self) -> dict[str, Any]:
        snap = self._snapshot
        return {
            "source": snap.source if snap else None,
            "lists": [f"{lid}@{ver}" for lid, ver, _ in snap.refs] if snap else [],
            "synced_at": snap.synced_at if snap else None,
            "stale": self.is_stale(snap),
            "last_error": self.last_error,
        }


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
