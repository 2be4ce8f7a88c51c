"""What a decision was made from, so that anyone can decide it again (Art. 25, 50).

A completion record names the measure lists (id, version, sha256) and the policy profile a
decision used; :func:`report_digest` adds the report: the SHA-256 of its **canonical bytes**,
the report as the platform sent it, after the Art. 20 screening that parsing applies
(prohibited fields are never kept, not even in a digest's input), as sorted-key compact JSON in
UTF-8. Parsing those bytes again gives the same report, and digesting them again the same
digest, so a report kept in the archive, or supplied by a caller, can be checked against the
record before a decision is replayed from it.

>>> from credit_sdk import CreditReport
>>> from credit_sdk._models import sample_report_path
>>> report = CreditReport.parse(sample_report_path("clean").read_bytes())
>>> len(report_digest(report) or "")
64
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_sdk._audit._archive import ReportArchive
from credit_sdk._audit._types import AuditRecord, ListSnapshot, QueryCompletion, QueryLog
from credit_sdk._catalog import Catalog, MeasureList
from credit_sdk._engine import decide
from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError, require_type
from credit_sdk._models import CreditReport, canonical_report_bytes
from credit_sdk._policy import PolicyProfile
from credit_sdk._privacy import drop_prohibited_fields

if TYPE_CHECKING:
    from credit_sdk._decision import Decision

__all__ = [
    "EditionImpact",
    "ReplayResult",
    "edition_impact",
    "replay",
    "report_bytes",
    "report_digest",
    "report_from_bytes",
]


def report_bytes(report: CreditReport) -> bytes | None:
    """The report's canonical bytes (see the module docstring), or ``None`` for a report that
    was built in code rather than parsed from what a platform sent."""
    if report._canonical is not None:
        return report._canonical
    source = report.received
    if source is None:
        return None
    try:
        screened = report._screened
        if screened is not None:
            # parse() screened what it decoded: the same objects, not decoded twice.
            cleaned: Any = screened
        else:
            data = json.loads(source) if isinstance(source, str | bytes) else source
            cleaned, _ = drop_prohibited_fields(data)
        if not isinstance(cleaned, dict):
            return None
        return canonical_report_bytes(cleaned, report.prohibited_fields_dropped)
    except (TypeError, ValueError):
        return None


def report_from_bytes(data: bytes) -> CreditReport:
    """The report whose canonical bytes are ``data`` (what the archive keeps), with the paths
    that screening dropped when it was received."""
    report = CreditReport.parse(data)
    try:
        dropped = json.loads(data).get("prohibited_fields_dropped") or []
    except (ValueError, AttributeError):
        dropped = []
    if dropped and not report.prohibited_fields_dropped:
        restored = report.model_copy(update={"prohibited_fields_dropped": tuple(dropped)})
        restored._received = data
        return restored
    return report


def report_digest(report: CreditReport) -> str | None:
    """SHA-256 (hex) of :func:`report_bytes`, or ``None`` when the report has none."""
    data = report_bytes(report)
    return None if data is None else hashlib.sha256(data).hexdigest()


# -- replaying decisions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """A decision made again from its report, lists and profile, beside what the log recorded.

    ``same`` is true when the outcome and the applied measures are the same; otherwise
    ``added`` and ``removed`` name the measures that differ. ``report_source`` is
    ``"archive"`` or ``"caller"``. Nothing is written to the log.
    """

    query_id: str
    same: bool
    recorded_outcome: str
    replayed_outcome: str
    recorded_measures: tuple[str, ...]
    replayed_measures: tuple[str, ...]
    report_source: str
    as_of: dt.date
    decision: Decision = field(repr=False, compare=False)

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(m for m in self.replayed_measures if m not in self.recorded_measures)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(m for m in self.recorded_measures if m not in self.replayed_measures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "same": self.same,
            "recorded_outcome": self.recorded_outcome,
            "replayed_outcome": self.replayed_outcome,
            "recorded_measures": list(self.recorded_measures),
            "replayed_measures": list(self.replayed_measures),
            "added": list(self.added),
            "removed": list(self.removed),
            "report_source": self.report_source,
            "as_of": self.as_of.isoformat(),
        }

    def __str__(self) -> str:
        head = f"query {self.query_id} (as of {self.as_of}, report from the {self.report_source})"
        if self.same:
            measures = ", ".join(self.recorded_measures) or "no measures"
            return f"{head}: replayed the same: {self.recorded_outcome}, {measures}"
        parts = []
        if self.recorded_outcome != self.replayed_outcome:
            parts.append(f"outcome {self.recorded_outcome} -> {self.replayed_outcome}")
        if self.added:
            parts.append("measures added: " + ", ".join(self.added))
        if self.removed:
            parts.append("measures removed: " + ", ".join(self.removed))
        return f"{head}: DIFFERS: " + "; ".join(parts)


def _records_of(log: QueryLog, query_ids: set[str] | None, since: dt.datetime | None) -> Any:
    """``{query_id: (intent, completion)}`` for the given queries (or those since a time)."""
    found: dict[str, dict[str, AuditRecord]] = {}
    for record in log.export(since=since) if since is not None else log.export():
        qid = record.query_id
        if qid is None or (query_ids is not None and qid not in query_ids):
            continue
        found.setdefault(qid, {})[record.kind] = record
    return found


def _catalog_for(lists: Sequence[ListSnapshot], available: Sequence[MeasureList]) -> Catalog:
    by_ref = {lst.ref: lst for lst in available}
    chosen = []
    for ref in lists:
        lst = by_ref.get((ref.list_id, ref.version, ref.sha256))
        if lst is None:
            raise ConfigurationError(
                f"measure list {ref.list_id} version {ref.version} (sha256 {ref.sha256[:12]}...) "
                "that the decision used is not available: pass the lists directory that holds "
                "it (lists_dir / --lists-dir)"
            )
        chosen.append(lst)
    if not chosen:
        raise ConfigurationError("the completion record names no measure lists: nothing to replay")
    return Catalog(tuple(chosen))


def _available_lists(
    catalog: Catalog | None, lists_dir: str | os.PathLike[str] | None
) -> list[MeasureList]:
    out = list(Catalog.default().lists)
    if catalog is not None:
        out.extend(catalog.lists)
    if lists_dir is not None:
        out.extend(MeasureList.load(f) for f in sorted(Path(lists_dir).rglob("*.json"))
                   if _is_list_file(f))  # fmt: skip
    return out


def _is_list_file(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "measures" in data and "list_id" in data


def _report_for(
    log: QueryLog,
    query_id: str,
    digest: str | None,
    report: CreditReport | bytes | str | None,
    archive: ReportArchive | None,
) -> tuple[CreditReport, str]:
    if digest is None:
        raise AuditError(
            f"query {query_id} recorded no report digest (a failed check, or a log written "
            "before digests were recorded): nothing to replay against"
        )
    if report is not None:
        parsed = report if isinstance(report, CreditReport) else CreditReport.parse(report)
        got = report_digest(parsed)
        if got != digest:
            raise AuditIntegrityError(
                f"the report given for query {query_id} is not the one the decision was made "
                f"from (digest {str(got)[:12]}... instead of {digest[:12]}...)"
            )
        return parsed, "caller"
    if archive is None:
        raise ConfigurationError(
            "replaying needs the report: pass it (report= / --report), or the archive key "
            "(archive= / --archive-key) of a log that archives reports"
        )
    archived = log.archived_report(query_id)
    if archived is None:
        raise AuditError(f"no report is archived for query {query_id} (archive off, or pruned)")
    if archived.report_sha256 != digest:
        raise AuditIntegrityError(
            f"the archived report of query {query_id} names another digest than its record"
        )
    return report_from_bytes(archive.open(archived)), "archive"


#: The form of the query ids the SDK hands out (``new_query_id``): 32 lower-case hex digits.
_QUERY_ID = re.compile(r"[0-9a-f]{32}")


def replay(
    log: QueryLog,
    query_id: str,
    *,
    report: CreditReport | bytes | str | None = None,
    archive: ReportArchive | None = None,
    catalog: Catalog | None = None,
    lists_dir: str | os.PathLike[str] | None = None,
    profile: PolicyProfile | None = None,
) -> ReplayResult:
    """Decide query ``query_id`` again from its report (``report``, checked against the
    recorded digest, or the archive under ``archive``'s key), the list editions its completion
    record names (shipped, in ``catalog`` or under ``lists_dir``; each must match its recorded
    sha256) and its policy profile, and compare with what was recorded. Writes nothing.

    >>> result = replay(log, "0190f0c3...", archive=ReportArchive(key))  # doctest: +SKIP
    >>> result.same, str(result)                                         # doctest: +SKIP
    """
    require_type(query_id, str, "query_id")
    records = _records_of(log, {query_id}, None).get(query_id, {})
    intent_rec, done_rec = records.get("intent"), records.get("completion")
    if intent_rec is None or done_rec is None:
        # Quoted only in the form the SDK gives query ids: whatever else a caller typed (an ID
        # number by mistake) is not echoed.
        shown = f" {query_id}" if _QUERY_ID.fullmatch(query_id) else ""
        raise AuditError(f"the query log holds no completed query{shown}")
    intent, done = intent_rec.intent(), done_rec.completion()
    assert intent is not None
    assert done is not None
    parsed, source = _report_for(log, query_id, done.report_sha256, report, archive)
    cat = _catalog_for(done.lists, _available_lists(catalog, lists_dir))
    prof = profile if profile is not None else PolicyProfile.get(done.policy_profile)
    as_of = done.as_of or intent.requested_at.date()
    decision = decide(parsed, intent.scenario, as_of=as_of, catalog=cat, profile=prof)
    return _compare(query_id, done, decision, source, as_of)


def _compare(
    query_id: str, done: QueryCompletion, decision: Decision, source: str, as_of: dt.date
) -> ReplayResult:
    replayed = tuple(decision.applied_measure_ids)
    return ReplayResult(
        query_id=query_id,
        same=decision.outcome.value == done.outcome
        and sorted(replayed) == sorted(done.applied_measure_ids),
        recorded_outcome=done.outcome,
        replayed_outcome=decision.outcome.value,
        recorded_measures=tuple(done.applied_measure_ids),
        replayed_measures=replayed,
        report_source=source,
        as_of=as_of,
        decision=decision,
    )


@dataclass(frozen=True, slots=True)
class EditionImpact:
    """What a new list edition (or profile) would change in archived decisions: each query
    decided on ``as_of`` under the recorded lists and under the new ones."""

    as_of: dt.date
    replayed: int
    changed: tuple[ReplayResult, ...]
    skipped: int

    @property
    def outcomes_changed(self) -> int:
        return sum(1 for r in self.changed if r.recorded_outcome != r.replayed_outcome)

    def measures(self) -> dict[str, dict[str, int]]:
        """``{"added": {measure: queries}, "removed": {...}}``."""
        added: dict[str, int] = {}
        removed: dict[str, int] = {}
        for r in self.changed:
            for m in r.added:
                added[m] = added.get(m, 0) + 1
            for m in r.removed:
                removed[m] = removed.get(m, 0) + 1
        return {"added": dict(sorted(added.items())), "removed": dict(sorted(removed.items()))}

    def __str__(self) -> str:
        lines = [
            f"replayed {self.replayed} archived decisions as of {self.as_of} "
            f"({self.skipped} without an archived report skipped): "
            f"{len(self.changed)} would change, {self.outcomes_changed} of them in outcome"
        ]
        m = self.measures()
        for title in ("added", "removed"):
            for measure, n in m[title].items():
                lines.append(f"  measure {title}: {measure} in {n} decisions")
        return "\n".join(lines)


def edition_impact(
    log: QueryLog,
    *,
    since: dt.datetime,
    archive: ReportArchive,
    new_lists: Sequence[MeasureList] = (),
    new_profile: PolicyProfile | None = None,
    as_of: dt.date | None = None,
    catalog: Catalog | None = None,
    lists_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> EditionImpact:
    """Re-decide the archived queries since ``since`` under ``new_lists`` (each replacing the
    recorded edition of its list) and/or ``new_profile``, against the recorded lists and
    profile, both on ``as_of`` (default: the newest ``effective_from`` of the new editions, or
    today), and report what would change. Writes nothing to the log.

    ``progress``, if given, is called as ``progress(done, total, skipped)`` after each query of
    the period (``skipped``: those whose report is no longer archived), as ``check_many`` calls
    its callback."""
    if not new_lists and new_profile is None:
        raise ConfigurationError("give the new list editions or the new profile to compare")
    day = as_of or max((lst.effective_from for lst in new_lists), default=dt.date.today())
    available = _available_lists(catalog, lists_dir)
    replaced = {lst.list_id for lst in new_lists}
    changed: list[ReplayResult] = []
    replayed = skipped = 0
    queries = _records_of(log, None, since)
    for n, (qid, records) in enumerate(queries.items(), 1):
        if progress is not None and n > 1:
            progress(n - 1, len(queries), skipped)
        intent_rec, done_rec = records.get("intent"), records.get("completion")
        if intent_rec is None or done_rec is None:
            continue
        intent, done = intent_rec.intent(), done_rec.completion()
        assert intent is not None
        assert done is not None
        if done.report_sha256 is None or not done.lists:
            continue
        archived = log.archived_report(qid)
        if archived is None:
            skipped += 1
            continue
        report = report_from_bytes(archive.open(archived))
        old_catalog = _catalog_for(done.lists, available)
        new_catalog = Catalog(
            tuple(lst for lst in old_catalog.lists if lst.list_id not in replaced)
            + tuple(new_lists)
        )
        old_profile = PolicyProfile.get(done.policy_profile)
        before = decide(report, intent.scenario, as_of=day, catalog=old_catalog,
                        profile=old_profile)  # fmt: skip
        after = decide(report, intent.scenario, as_of=day, catalog=new_catalog,
                       profile=new_profile or old_profile)  # fmt: skip
        replayed += 1
        baseline = QueryCompletion(
            query_id=qid, completed_at=done.completed_at, outcome=before.outcome.value,
            policy_profile=done.policy_profile, applied_measure_ids=before.applied_measure_ids,
        )  # fmt: skip
        result = _compare(qid, baseline, after, "archive", day)
        if not result.same:
            changed.append(result)
    if progress is not None:
        progress(len(queries), len(queries), skipped)
    return EditionImpact(day, replayed, tuple(changed), skipped)
