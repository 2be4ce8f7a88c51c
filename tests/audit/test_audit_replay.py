"""Decisions anyone can replay (Art. 25, 50): the report archive (encrypted at rest, kept for a
retention, pruned with the log), ``replay()`` / ``credit-sdk audit replay`` from the archive or a
caller's report checked against the recorded digest, and the impact of a new list edition on
archived decisions; on every store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AuditError,
    AuditIntegrityError,
    Catalog,
    ConfigurationError,
    CreditReport,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    ReportArchive,
    Scenario,
    edition_impact,
    replay,
    report_digest,
)
from credit_sdk._catalog import MeasureList
from credit_sdk._data import DATA_DIR
from credit_sdk._replay import report_bytes
from credit_sdk.testing import CreditPlatform, fake_uscc

from .conftest import Raw, StoreSpec

CTX = QueryContext(
    organ="230100-GGZY", operator="u1024", matter_code="BID-1", purpose="bidder screening 2026-17"
)
KEY = bytes(range(32))


@pytest.fixture
def archive() -> ReportArchive:
    return ReportArchive(KEY)


@pytest.fixture
def decided(spec: StoreSpec, archive: ReportArchive) -> tuple[Any, dict[str, Any]]:
    """Three checks (a severe-list bidder, a clean one, a red-list one) with the archive on."""
    log = spec.open()
    platform = CreditPlatform()
    severe, clean, red = fake_uscc(21), fake_uscc(22), fake_uscc(23)
    platform.subject(severe).on_severe_list(category="bid_rigging")
    platform.subject(red).on_red_list()
    served: dict[str, CreditReport] = {}
    original = platform.query_report

    def spy(query: Any) -> CreditReport:
        report = original(query)
        served[query.query_id] = report
        return report

    platform.query_report = spy  # type: ignore[method-assign]
    with platform.client(audit=log, report_archive=archive) as client:
        decisions = {
            "severe": client.check(severe, Scenario.BIDDING, CTX),
            "clean": client.check(clean, Scenario.BIDDING, CTX),
            "red": client.check(red, Scenario.BIDDING, CTX),
        }
    assert decisions["severe"].outcome.value == "RESTRICTED"
    return log, {"decisions": decisions, "served": served}


def _qid(state: dict[str, Any], name: str) -> str:
    qid = state["decisions"][name].query_id
    assert qid is not None
    return str(qid)


def test_every_archived_decision_replays_the_same(
    decided: tuple[Any, dict[str, Any]], archive: ReportArchive
) -> None:
    log, state = decided
    for name in ("severe", "clean", "red"):
        result = replay(log, _qid(state, name), archive=archive)
        assert result.same, result
        assert result.report_source == "archive"
        assert result.replayed_outcome == state["decisions"][name].outcome.value
        assert result.replayed_measures == state["decisions"][name].applied_measure_ids
        assert "replayed the same" in str(result)


def test_the_archive_holds_ciphertext_bound_to_its_query(
    decided: tuple[Any, dict[str, Any]], archive: ReportArchive
) -> None:
    log, state = decided
    qid = _qid(state, "severe")
    stored = log.archived_report(qid)
    assert stored is not None
    report = state["served"][qid]
    plain = report_bytes(report)
    assert plain is not None
    assert plain not in stored.blob
    assert report.report_id.encode() not in stored.blob
    assert "blob" not in repr(stored)
    assert stored.report_sha256 == report_digest(report)
    assert archive.open(stored) == plain
    with pytest.raises(AuditIntegrityError, match="another query"):
        archive.open(dataclasses.replace(stored, query_id=_qid(state, "clean")))
    flipped = bytearray(stored.blob)
    flipped[-1] ^= 1
    with pytest.raises(AuditIntegrityError, match="altered"):
        archive.open(dataclasses.replace(stored, blob=bytes(flipped)))
    with pytest.raises(AuditIntegrityError, match="sealed with key"):
        ReportArchive(bytes(32)).open(stored)
    assert "key_id" in repr(archive)
    assert KEY.hex() not in repr(archive)


def test_sqlite_file_never_holds_the_report_in_clear(
    decided: tuple[Any, dict[str, Any]], spec: StoreSpec
) -> None:
    if spec.kind != "sqlite":
        pytest.skip("a scan of the SQLite file and its WAL")
    log, state = decided
    title = state["served"][_qid(state, "severe")].records[0].title.encode()
    log.close()
    for suffix in ("", "-wal"):
        path = Path(spec.target + suffix)
        if path.exists():
            assert title not in path.read_bytes()


def test_replay_from_a_report_the_caller_supplies(
    decided: tuple[Any, dict[str, Any]],
) -> None:
    log, state = decided
    qid = _qid(state, "severe")
    raw = report_bytes(state["served"][qid])
    assert raw is not None
    result = replay(log, qid, report=raw)
    assert result.same
    assert result.report_source == "caller"
    changed = json.loads(raw)
    changed["records"] = []
    with pytest.raises(AuditIntegrityError, match="not the one the decision was made from"):
        replay(log, qid, report=json.dumps(changed))
    with pytest.raises(ConfigurationError, match="needs the report"):
        replay(log, qid)
    with pytest.raises(AuditError, match="no completed query"):
        replay(log, "no-such-query", report=raw)


def test_a_recorded_decision_the_lists_do_not_give_is_shown_as_a_difference(
    spec: StoreSpec, archive: ReportArchive
) -> None:
    # A completion that says CLEAR for a severe-list report: the replay prints the difference.
    log = spec.open()
    raw = (DATA_DIR / "reports" / "severe_list.json").read_bytes()
    report = CreditReport.parse(raw)
    digest = report_digest(report)
    assert digest is not None
    data = report_bytes(report)
    assert data is not None
    now = dt.datetime.now(dt.UTC)
    intent = QueryIntent(
        query_id="q-forged-clear", requested_at=now, organ="230100-GGZY", operator="u1",
        matter_code="BID", purpose="bidder screening", scenario="bidding",
        subject_pseudonym="ab" * 32, subject_display="9123**********017F",
        subject_kind="legal_person",
    )  # fmt: skip
    refs = tuple(lst.ref for lst in Catalog.default().lists)
    log.record_intent(intent)
    log.archive_reports([archive.seal("q-forged-clear", digest, data)])
    log.record_completion(
        QueryCompletion(
            query_id="q-forged-clear", completed_at=now, outcome="CLEAR",
            policy_profile="hlj-draft-2021", report_id=report.report_id, lists=refs,
            report_sha256=digest, as_of=dt.date(2026, 11, 29),
        )
    )  # fmt: skip
    result = replay(log, "q-forged-clear", archive=archive)
    assert not result.same
    assert result.replayed_outcome == "RESTRICTED"
    assert result.added
    assert "DIFFERS: outcome CLEAR -> RESTRICTED" in str(result)


def test_a_list_edition_no_longer_at_hand_is_named(
    decided: tuple[Any, dict[str, Any]], archive: ReportArchive, spec: StoreSpec
) -> None:
    log, state = decided
    qid = _qid(state, "severe")
    records = {r.kind: r for r in log.export() if r.query_id == qid}
    done = records["completion"].completion()
    # Replaying under lists that lack the recorded edition's exact content is refused.
    from credit_sdk._replay import _catalog_for

    bent = [done.lists[0]._replace(sha256="0" * 64)]
    with pytest.raises(ConfigurationError, match="not available"):
        _catalog_for(bent, list(Catalog.default().lists))


def test_pruned_archive_cannot_be_replayed(
    decided: tuple[Any, dict[str, Any]], archive: ReportArchive
) -> None:
    log, state = decided
    assert log.prune_archive(dt.datetime.now(dt.UTC)) == 3
    with pytest.raises(AuditError, match="no report is archived"):
        replay(log, _qid(state, "severe"), archive=archive)


def _new_edition(tmp_path: Path, measure_id: str) -> MeasureList:
    """A later edition of the list holding ``measure_id``, without that measure."""
    for path in sorted((DATA_DIR / "lists").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        ids = [m["measure_id"] for m in data["measures"]]
        if measure_id in ids:
            break
    else:
        raise AssertionError(f"no shipped list holds {measure_id}")
    data.pop("sha256", None)
    data["version"] = data["version"] + "-next"
    data["measures"] = [m for m in data["measures"] if m["measure_id"] != measure_id]
    out = tmp_path / "new-edition.json"
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return MeasureList.load(out)


def test_impact_of_a_new_edition_on_archived_decisions(
    decided: tuple[Any, dict[str, Any]], archive: ReportArchive, tmp_path: Path, spec: StoreSpec
) -> None:
    log, state = decided
    dropped = state["decisions"]["severe"].applied_measure_ids[0]
    new = _new_edition(tmp_path, dropped)
    before = list(log.export())
    calls: list[tuple[int, int, int]] = []
    impact = edition_impact(
        log,
        since=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        archive=archive,
        new_lists=[new],
        as_of=state["decisions"]["severe"].provenance.as_of,
        progress=lambda done, total, skipped: calls.append((done, total, skipped)),
    )
    assert impact.replayed == 3
    # One call per query of the period, counting up to all of them, the last with the skipped.
    total = calls[-1][1]
    assert [done for done, _, _ in calls] == list(range(1, total + 1))
    assert {t for _, t, _ in calls} == {total}
    assert total >= impact.replayed
    assert calls[-1][2] == impact.skipped
    assert len(impact.changed) == 1
    (changed,) = impact.changed
    assert changed.query_id == _qid(state, "severe")
    assert dropped in changed.removed
    assert impact.measures()["removed"] == dict.fromkeys(changed.removed, 1)
    assert "1 would change" in str(impact)
    assert list(log.export()) == before  # the log is not touched
    with pytest.raises(ConfigurationError):
        edition_impact(log, since=dt.datetime.now(dt.UTC), archive=archive)


@pytest.mark.durable_only
def test_command_line_replay_and_impact(
    decided: tuple[Any, dict[str, Any]],
    spec: StoreSpec,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from credit_sdk.cli import EXIT_OK, EXIT_USAGE, main

    log, state = decided
    log.close()
    key_file = tmp_path / "archive.key"
    key_file.write_text(KEY.hex())
    os.chmod(key_file, 0o600)
    qid = _qid(state, "severe")
    argv = ["audit", "replay", "--db", spec.db_arg]
    assert main([*argv, qid, "--archive-key", str(key_file)]) == EXIT_OK
    assert "replayed the same: RESTRICTED" in capsys.readouterr().out
    assert main([*argv, qid, "--json", "--archive-key", str(key_file)]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["same"] is True
    report_file = tmp_path / "report.json"
    report_file.write_bytes(report_bytes(state["served"][qid]) or b"")
    assert main([*argv, qid, "--report", str(report_file)]) == EXIT_OK
    capsys.readouterr()
    new = _new_edition(tmp_path, state["decisions"]["severe"].applied_measure_ids[0])
    as_of = state["decisions"]["severe"].provenance.as_of.isoformat()
    impact = [*argv, "--since", "2000-01-01", "--lists", str(tmp_path / "new-edition.json"),
              "--archive-key", str(key_file), "--as-of", as_of, "--json"]  # fmt: skip
    assert new.version.endswith("-next")
    assert main(impact) == EXIT_OK
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert (out["replayed"], out["changed"]) == (3, 1)
    assert "replayed" not in captured.err  # piped: no progress line
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(impact) == EXIT_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["replayed"] == 3  # stdout stays the JSON alone
    last = captured.err.split("\r")[-1]
    assert re.search(r"已重放 replayed (\d+)/\1 \(100%\)  \d+\.\d/s  ETA \d+:\d\d:\d\d", last)
    assert "无存档 not archived 0" in last
    assert main([*impact, "--no-progress"]) == EXIT_OK
    assert "replayed" not in capsys.readouterr().err
    assert main([*argv]) == EXIT_USAGE
    assert main([*argv, qid, "--since", "2000-01-01", "--archive-key", str(key_file)]) == EXIT_USAGE


@pytest.mark.durable_only
def test_the_client_applies_the_archive_retention(
    decided: tuple[Any, dict[str, Any]], spec: StoreSpec, archive: ReportArchive
) -> None:
    log, state = decided
    old = _qid(state, "clean")
    two_years_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    raw = Raw(spec, log)
    if spec.kind == "sqlite":
        stamp: Any = two_years_ago.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        stamp = two_years_ago
    raw.sql("UPDATE {s}.report_archive SET stored_at = %s WHERE query_id = %s", (stamp, old))
    platform = CreditPlatform()
    keeper = ReportArchive(KEY, retention=dt.timedelta(days=365))
    with platform.client(audit=log, report_archive=keeper) as client:
        fresh = client.check(fake_uscc(40), Scenario.BIDDING, CTX)
    assert log.archived_report(old) is None  # past the retention: pruned by the next check
    assert log.archived_report(_qid(state, "severe")) is not None  # within it: kept
    assert fresh.query_id is not None
    assert log.archived_report(fresh.query_id) is not None
