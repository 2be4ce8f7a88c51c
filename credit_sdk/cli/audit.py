"""``credit-sdk audit {verify,export,stats,prune}``: the query log (Art. 25, 46, 50)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import AuditIntegrityError
from credit_sdk.cli._common import (
    _DB_HELP,
    _RAW,
    EXIT_BROKEN_CHAIN,
    EXIT_OK,
    _epilog,
    _fmt,
    _json_default,
    _open_log,
    _out,
    _outbox_by_kind,
    _parse_time,
    _Progress,
    _UsageError,
)

if TYPE_CHECKING:
    pass


def _expected(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise _UsageError("--expect takes SEQ:HASH (a position and its 64-hex-digit hash)")
    return int(seq), digest.lower()


def _cmd_verify(args: argparse.Namespace) -> int:
    from credit_sdk._audit._witness import load_public_key, read_checkpoints

    checkpoints = [cp for path in args.checkpoints or () for cp in read_checkpoints(path)]
    public_key = load_public_key(args.public_key) if args.public_key else None
    if checkpoints and public_key is None:
        raise _UsageError("--checkpoints needs --public-key (the checkpoint signing key's)")
    expect = [_expected(text) for text in args.expect or ()]
    if args.export is not None:
        from credit_sdk._audit._export import verify_export
        from credit_sdk._audit._witness import expectations

        if args.db:
            raise _UsageError("--export verifies a file without the database: drop --db")
        try:
            with open(args.export, encoding="utf-8") as fh:
                result = verify_export(
                    fh, witnessed=expectations(checkpoints, public_key, expect),
                    public_key=public_key,
                )  # fmt: skip
        except OSError as err:
            raise _UsageError(f"--export: cannot read the file: {err.strerror}") from None
    else:
        with _open_log(args) as log:
            result = log.verify(checkpoints, public_key=public_key, expect=expect)
    if args.json:
        _out(json.dumps(asdict(result), sort_keys=True))
    else:
        _out(str(result))
    return EXIT_OK if result.ok else EXIT_BROKEN_CHAIN


def _cmd_export(args: argparse.Namespace) -> int:
    from credit_sdk._audit._export import load_key_file, write_csv, write_jsonl

    pseudonym = None
    if args.subject is not None:
        if args.key_file is None:
            raise _UsageError("--subject needs --key-file (the pseudonymisation key)")
        from credit_sdk._identifiers import parse_identifier

        key = load_key_file(args.key_file)
        # The log never holds the identifier: find the subject by its keyed pseudonym.
        pseudonym = parse_identifier(args.subject).pseudonym(key)
    elif args.key_file is not None:
        raise _UsageError("--key-file is only used with --subject")
    since = _parse_time(args.since, name="since") if args.since else None
    until = _parse_time(args.until, name="until") if args.until else None
    with _open_log(args) as log:
        if pseudonym is not None:
            _bring_index_up(log, not args.no_progress)
        records = log.export(
            subject_pseudonym=pseudonym, organ=args.organ, since=since, until=until
        )
        writer = write_csv if args.format == "csv" else write_jsonl
        if args.output in (None, "-"):
            count = writer(records, sys.stdout)
        else:
            # The export is personal data (Art. 50 is the subject's own right): owner-only file.
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                count = writer(records, fh)
    sys.stderr.write(f"exported {count} records\n")
    return EXIT_OK


def _bring_index_up(log: Any, show: bool) -> None:
    """A SQLite log's subject index is built on first need: on a large log that takes a while,
    so the command line builds it before the export, with progress on a terminal. A log that
    cannot be written now is exported with a scan instead (the export decides)."""
    from credit_sdk._errors import AuditError

    index = getattr(log, "index_subjects", None)
    if index is None:
        return
    progress = _Progress(0, enabled=show, done="已索引 indexed", failures="跳过 skipped")
    try:
        index(progress=progress)
    except AuditIntegrityError:
        raise
    except AuditError as err:
        sys.stderr.write(f"subject index not updated ({err}); the export scans the log\n")
    finally:
        progress.finish()


def _cmd_index(args: argparse.Namespace) -> int:
    with _open_log(args) as log:
        if not hasattr(log, "index_subjects"):
            _out("this store keeps an ordinary index on the subject: nothing to build")
            return EXIT_OK
        progress = _Progress(
            0, enabled=not args.no_progress, done="已索引 indexed", failures="跳过 skipped"
        )
        try:
            if args.check:
                problem = log.check_subject_index(progress=progress)
            else:
                count = log.index_subjects(rebuild=args.rebuild, progress=progress)
        finally:
            progress.finish()
    if args.check:
        _out(problem or "the subject index matches the chain")
        return EXIT_BROKEN_CHAIN if problem else EXIT_OK
    _out(f"indexed {count} records")
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace) -> int:
    from credit_sdk._audit._witness import CheckpointSigner

    signer = CheckpointSigner.generate()
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _UsageError(f"{args.output} exists; a signing key is never overwritten") from None
    with open(fd, "w", encoding="ascii") as fh:
        fh.write(signer.private_hex() + "\n")
    if args.public_output:
        with open(args.public_output, "w", encoding="ascii") as fh:
            fh.write(signer.public_key.hex() + "\n")
    _out(f"public key {signer.public_key.hex()} (key id {signer.key_id})")
    return EXIT_OK


def _cmd_checkpoint(args: argparse.Namespace) -> int:
    from credit_sdk._audit import open_query_log
    from credit_sdk._audit._witness import CheckpointPolicy, CheckpointSigner, FileCheckpointSink

    target = args.db or os.environ.get("CREDIT_SDK_AUDIT_DB", "")
    if not target:
        raise _UsageError("no query log given: pass --db PATH_OR_URL or set CREDIT_SDK_AUDIT_DB")
    signer = CheckpointSigner.from_file(args.signing_key)
    sinks = [FileCheckpointSink(path) for path in args.to or ()]
    policy = CheckpointPolicy(signer, sinks=sinks)
    with open_query_log(target, create=False, group_commit=False, checkpoints=policy) as log:
        cp = log.checkpoint()
    if cp is None:
        _out("the newest record is a checkpoint already: nothing new to sign")
    else:
        _out(cp.to_json())
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from credit_sdk._audit._archive import ReportArchive
    from credit_sdk._catalog import MeasureList
    from credit_sdk._policy import PolicyProfile
    from credit_sdk._replay import edition_impact, replay

    archive = ReportArchive.from_file(args.archive_key) if args.archive_key else None
    if args.since is not None or args.lists or args.profile:
        if args.query_id is not None or args.report is not None:
            raise _UsageError("replay QUERY_ID and replay --since ... are two uses: pick one")
        if args.since is None or archive is None:
            raise _UsageError("an edition's impact needs --since DATE and --archive-key FILE")
        new_lists = [MeasureList.load(path) for path in args.lists or ()]
        profile = PolicyProfile.get(args.profile) if args.profile else None
        as_of = _parse_time(args.as_of, name="as-of").date() if args.as_of else None
        progress = _Progress(
            0, enabled=not args.no_progress, done="已重放 replayed", failures="无存档 not archived"
        )
        with _open_log(args) as log:
            try:
                impact = edition_impact(
                    log, since=_parse_time(args.since, name="since"), archive=archive,
                    new_lists=new_lists, new_profile=profile, as_of=as_of,
                    lists_dir=args.lists_dir, progress=progress,
                )  # fmt: skip
            finally:
                progress.finish()
        if args.json:
            _out(json.dumps({
                "as_of": impact.as_of.isoformat(), "replayed": impact.replayed,
                "skipped": impact.skipped, "changed": len(impact.changed),
                "outcomes_changed": impact.outcomes_changed, "measures": impact.measures(),
                "queries": [r.to_dict() for r in impact.changed],
            }, sort_keys=True, ensure_ascii=False))  # fmt: skip
        else:
            _out(str(impact))
        return EXIT_OK
    if args.query_id is None:
        raise _UsageError("replay needs a QUERY_ID (or --since DATE --lists FILE for an impact)")
    report = None
    if args.report is not None:
        try:
            with open(args.report, "rb") as fh:
                report = fh.read()
        except OSError as err:
            raise _UsageError(f"--report: cannot read the file: {err.strerror}") from None
    with _open_log(args) as log:
        result = replay(
            log, args.query_id, report=report, archive=archive, lists_dir=args.lists_dir
        )
    _out(json.dumps(result.to_dict(), sort_keys=True) if args.json else str(result))
    return EXIT_OK if result.same else EXIT_BROKEN_CHAIN


def _cmd_stats(args: argparse.Namespace) -> int:
    with _open_log(args) as log:
        stats = log.stats()
    # A broken chain head is a broken chain: the counts are still printed, the exit code says so.
    # So is an outbox that does not match what the chain states about it.
    broken = stats.head_problem is not None or stats.outbox_problem is not None
    status = EXIT_BROKEN_CHAIN if broken else EXIT_OK
    if args.json:
        _out(json.dumps(asdict(stats), sort_keys=True, default=_json_default, ensure_ascii=False))
        return status
    ob = stats.outbox
    lines = [
        f"records      {stats.records} (intents {stats.intents}, completions {stats.completions}, "
        f"checkpoints {stats.checkpoints})",
        f"incomplete   {stats.incomplete} queries without a completion record",
        f"head         {stats.head_seq} {stats.head_hash}"
        + (
            f"\nCHAIN BROKEN {stats.head_problem} (newest record shown; see audit verify)"
            if stats.head_problem
            else ""
        ),
        f"written      {_fmt(stats.first_recorded_at)} .. {_fmt(stats.last_recorded_at)}",
        f"outbox       backlog {ob.pending} (in flight {ob.in_flight}), delivered {ob.delivered}, "
        f"dead letters {ob.dead}"
        + (f", oldest pending {_fmt(ob.oldest_pending_at)}" if ob.oldest_pending_at else "")
        + (f", overdue {ob.overdue}" if ob.overdue else "")
        + (f"\nOUTBOX BROKEN {stats.outbox_problem}" if stats.outbox_problem else ""),
        *_outbox_by_kind(ob),
    ]
    for title, table in (
        ("by outcome", stats.by_outcome),
        ("by organ", stats.by_organ),
        ("by day (UTC)", stats.by_day),
    ):
        lines.append(f"{title}:")
        lines.extend(f"  {key:<24} {value}" for key, value in table.items())
        if not table:
            lines.append("  (none)")
    _out("\n".join(lines))
    return status


def _cmd_prune(args: argparse.Namespace) -> int:
    before = _parse_time(args.before, name="before")
    if not (args.yes or args.dry_run):
        raise _UsageError("prune deletes records: add --yes to confirm, or --dry-run to preview")
    with _open_log(args) as log:
        if args.dry_run:
            from credit_sdk._audit._common import check_prune_before

            check_prune_before(before)  # the real run's refusals, in the same order
            count = _count_before(log.export(), before)
            if count:
                # The real run refuses a chain that does not verify: so does its preview.
                check = log.verify()
                if not check.ok:
                    raise AuditIntegrityError(
                        f"refusing to prune a chain that does not verify: {check}"
                    )
            _out(f"would prune {count} records written before {before.isoformat()}")
            return EXIT_OK
        result = log.prune(before)
    if result.pruned:
        _out(
            f"pruned {result.pruned} records "
            f"({result.first_pruned_seq}..{result.last_pruned_seq}); "
            f"checkpoint {result.checkpoint_seq} {result.checkpoint_hash}"
        )
    else:
        _out("nothing to prune")
    return EXIT_OK


def _count_before(records: Iterator[Any], before: datetime) -> int:
    count = 0
    for record in records:
        if record.recorded_at >= before:
            break
        count += 1
    return count


_AUDIT_EXAMPLES = {
    "verify": (
        "  credit-sdk audit verify --db credit-audit.db --json\n"
        "  credit-sdk audit verify --checkpoints witness.jsonl --public-key checkpoint.pub\n"
        "  credit-sdk audit verify --expect 1042:<hash written down earlier>\n"
        "  credit-sdk audit verify --export log.jsonl --checkpoints witness.jsonl "
        "--public-key checkpoint.pub"
    ),
    "export": (
        "  credit-sdk audit export --db credit-audit.db --subject ID --key-file pseudonym.key "
        "-o subject.jsonl\n"
        "  credit-sdk audit export --organ 230100-SCJGJ --since 2026-01-01 --format csv"
    ),
    "index": (
        "  credit-sdk audit index --db credit-audit.db\n"
        "  credit-sdk audit index --db credit-audit.db --check\n"
        "  credit-sdk audit index --db credit-audit.db --rebuild"
    ),
    "stats": "  credit-sdk audit stats --db credit-audit.db",
    "replay": (
        "  credit-sdk audit replay 0190f0c3a2b44c51 --archive-key archive.key\n"
        "  credit-sdk audit replay 0190f0c3a2b44c51 --report report.json\n"
        "  credit-sdk audit replay --since 2026-01-01 --lists hlj-supplementary-2027.json "
        "--archive-key archive.key"
    ),
    "keygen": "  credit-sdk audit keygen -o checkpoint.key --public-output checkpoint.pub",
    "checkpoint": (
        "  credit-sdk audit checkpoint --db credit-audit.db --signing-key checkpoint.key "
        "--to /mnt/witness/credit-checkpoints.jsonl"
    ),
    "prune": (
        "  credit-sdk audit prune --db credit-audit.db --before 2021-01-01 --dry-run\n"
        "  credit-sdk audit prune --db credit-audit.db --before 2021-01-01 --yes"
    ),
}


def add_audit_commands(groups: Any) -> None:
    """``credit-sdk audit {verify,export,stats,prune}`` (Art. 25, 46, 50)."""
    audit = groups.add_parser(
        "audit",
        help="query log: verify, export, stats, prune (Art. 25, 46, 50)",
        description="Inspect and maintain the query log (Art. 25) and feedback outbox (Art. 46).",
        epilog=_epilog(
            """\
  credit-sdk audit verify --db /var/lib/app/credit-audit.db
  credit-sdk audit export --subject ID --key-file pseudonym.key -o subject.jsonl   # Art. 50
  credit-sdk audit stats --db postgresql://audit@db.internal/credit
  credit-sdk audit prune --before 2021-01-01 --dry-run"""
        ),
        formatter_class=_RAW,
    )
    commands = audit.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, help_: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_, description=help_, epilog=_epilog(_AUDIT_EXAMPLES[name]),
            formatter_class=_RAW,
        )  # fmt: skip
        sub.add_argument("--db", metavar="PATH_OR_URL", help=_DB_HELP)
        sub.set_defaults(handler=handler)
        return sub

    verify = command("verify", "walk the hash chain and name the first broken link", _cmd_verify)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument(
        "--checkpoints",
        metavar="FILE",
        action="append",
        help="signed checkpoints a witness kept (JSON lines); prove the log up to the newest",
    )
    verify.add_argument(
        "--export",
        metavar="FILE",
        help="verify a JSON Lines export (audit export) without the database",
    )
    verify.add_argument(
        "--public-key", metavar="FILE", help="the checkpoint signing key's public key (hex/PEM)"
    )
    verify.add_argument(
        "--expect",
        metavar="SEQ:HASH",
        action="append",
        help="a head written down earlier: record SEQ must still have HASH (repeatable)",
    )

    replay = command(
        "replay",
        "decide a logged query again from its report and confirm it; or a new edition's impact",
        _cmd_replay,
    )
    replay.add_argument("query_id", nargs="?", metavar="QUERY_ID", help="the query to replay")
    replay.add_argument(
        "--report", metavar="FILE", help="the report (JSON) instead of the archive; checked "
        "against the recorded digest"
    )  # fmt: skip
    replay.add_argument("--archive-key", metavar="FILE", help="the report archive's key")
    replay.add_argument("--lists-dir", metavar="DIR", help="where recorded list editions are")
    replay.add_argument("--since", metavar="TIME", help="impact: archived queries since then")
    replay.add_argument(
        "--lists", metavar="FILE", action="append", help="impact: a new list edition (JSON)"
    )
    replay.add_argument("--profile", metavar="ID", help="impact: a new policy profile")
    replay.add_argument("--as-of", metavar="DATE", help="impact: decide as of this date")
    replay.add_argument("--json", action="store_true", help="print the result as JSON")
    replay.add_argument(
        "--no-progress",
        action="store_true",
        help="with --since: no progress line (shown only on a terminal)",
    )

    keygen = command(
        "keygen", "create an Ed25519 checkpoint signing key (never kept in the log)", _cmd_keygen
    )
    keygen.add_argument("--output", "-o", required=True, metavar="FILE", help="new key (0600)")
    keygen.add_argument("--public-output", metavar="FILE", help="write the public key here")

    checkpoint = command(
        "checkpoint", "sign the newest record now and append it to witness files", _cmd_checkpoint
    )
    checkpoint.add_argument(
        "--signing-key", required=True, metavar="FILE", help="Ed25519 private key (hex or PEM)"
    )
    checkpoint.add_argument(
        "--to", metavar="FILE", action="append", help="append the checkpoint here (repeatable)"
    )

    export = command(
        "export",
        "export records (JSON Lines or CSV) by subject, organ and time range (Art. 50)",
        _cmd_export,
    )
    export.add_argument("--subject", metavar="ID", help="resident ID number, USCC or TYPE:NUMBER")
    export.add_argument(
        "--key-file", metavar="FILE", help="pseudonymisation key (hex or raw bytes)"
    )
    export.add_argument("--organ", help="only queries made by this organ")
    export.add_argument(
        "--since", metavar="TIME", help="queries at or after (YYYY-MM-DD or ISO 8601, UTC default)"
    )
    export.add_argument("--until", metavar="TIME", help="queries before (exclusive)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument(
        "--output", "-o", metavar="FILE", help="write here (mode 0600) instead of stdout"
    )
    export.add_argument(
        "--no-progress",
        action="store_true",
        help="with --subject: no progress line while the subject index is built (terminal only)",
    )

    index = command(
        "index",
        "bring the subject index of a SQLite log up to date, check it or rebuild it (Art. 50)",
        _cmd_index,
    )
    mode = index.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="compare the index with the chain, record by record"
    )
    mode.add_argument("--rebuild", action="store_true", help="drop the index and build it afresh")
    index.add_argument(
        "--no-progress", action="store_true", help="no progress line (shown only on a terminal)"
    )

    stats = command(
        "stats", "counts by outcome, organ and day; outbox backlog and dead letters", _cmd_stats
    )
    stats.add_argument("--json", action="store_true", help="print the counts as JSON")

    prune = command(
        "prune",
        "delete records written before a date under a chained checkpoint (retention)",
        _cmd_prune,
    )
    prune.add_argument(
        "--before", required=True, metavar="TIME", help="YYYY-MM-DD or ISO 8601 (UTC default)"
    )
    prune.add_argument("--yes", action="store_true", help="really delete")
    prune.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
