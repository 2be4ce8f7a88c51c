"""The ``credit-sdk`` command line.

Commands come in groups (``credit-sdk audit verify``); each group is registered by a function
in :data:`COMMAND_GROUPS` that adds its sub-parsers and sets ``handler`` on each, so a new group
(``check``, ``lists``, ``sandbox``, ``feedback`` ...) is one function and one list entry.

>>> main(["audit", "verify", "--db", "memory:"])
chain verified: 0 records, head 0 0000000000000000000000000000000000000000000000000000000000000000
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Any

from credit_sdk._errors import (
    AuditError,
    AuditIntegrityError,
    ConfigurationError,
    InvalidIdentifier,
    InvalidQuery,
)
from credit_sdk._version import __version__

__all__ = ["COMMAND_GROUPS", "EXIT_CODES", "build_parser", "main"]

EXIT_OK = 0
EXIT_BROKEN_CHAIN = 1
EXIT_USAGE = 2
EXIT_DB_MISSING = 3
EXIT_DB_CORRUPT = 4
EXIT_DB_UNAVAILABLE = 5

EXIT_CODES = """\
exit codes:
  0  success
  1  the query log's hash chain does not verify (audit verify, audit prune)
  2  bad arguments (unknown option, unreadable key file, invalid identifier or date)
  3  the database does not exist (file missing, PostgreSQL database absent)
  4  the database is not a readable credit-sdk query log (garbage, damaged, other schema)
  5  the database could not be used (server down, locked, permission denied, write failed)
"""

_DB_HELP = (
    "query log: a SQLite file path or a postgresql:// URL (add ?schema=NAME for a schema "
    "other than credit_sdk); default: $CREDIT_SDK_AUDIT_DB"
)


class _UsageError(Exception):
    """A problem with the arguments that argparse itself cannot see."""


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so that ``main`` returns an exit code to its caller."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        raise _UsageError(f"{self.prog}: {message}")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"credit-sdk: {text}\n")


# -- the audit group ----------------------------------------------------------------------------


def _open_log(args: argparse.Namespace) -> Any:
    from credit_sdk._audit import open_query_log

    target = args.db or os.environ.get("CREDIT_SDK_AUDIT_DB", "")
    if not target:
        raise _UsageError("no query log given: pass --db PATH_OR_URL or set CREDIT_SDK_AUDIT_DB")
    # Never create a database from the command line: a typo must not produce an empty "log"
    # that verifies. Per-row mode: no writer thread for a one-shot command.
    return open_query_log(target, create=False, group_commit=False)


def _parse_time(text: str, *, name: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time; times without an offset are UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _UsageError(f"--{name}: expected YYYY-MM-DD or an ISO 8601 time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(type(value).__name__)


def _cmd_verify(args: argparse.Namespace) -> int:
    with _open_log(args) as log:
        result = log.verify()
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


def _cmd_stats(args: argparse.Namespace) -> int:
    with _open_log(args) as log:
        stats = log.stats()
    if args.json:
        _out(json.dumps(asdict(stats), sort_keys=True, default=_json_default, ensure_ascii=False))
        return EXIT_OK
    ob = stats.outbox
    lines = [
        f"records      {stats.records} (intents {stats.intents}, completions {stats.completions}, "
        f"checkpoints {stats.checkpoints})",
        f"incomplete   {stats.incomplete} queries without a completion record",
        f"head         {stats.head_seq} {stats.head_hash}",
        f"written      {_fmt(stats.first_recorded_at)} .. {_fmt(stats.last_recorded_at)}",
        f"outbox       backlog {ob.pending} (in flight {ob.in_flight}), delivered {ob.delivered}, "
        f"dead letters {ob.dead}"
        + (f", oldest pending {_fmt(ob.oldest_pending_at)}" if ob.oldest_pending_at else ""),
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
    return EXIT_OK


def _fmt(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _cmd_prune(args: argparse.Namespace) -> int:
    before = _parse_time(args.before, name="before")
    if not (args.yes or args.dry_run):
        raise _UsageError("prune deletes records: add --yes to confirm, or --dry-run to preview")
    with _open_log(args) as log:
        if args.dry_run:
            count = _count_before(log.export(), before)
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


def add_audit_commands(groups: Any) -> None:
    """``credit-sdk audit {verify,export,stats,prune}`` (Art. 25, 46, 50)."""
    audit = groups.add_parser(
        "audit",
        help="query log: verify, export, stats, prune (Art. 25, 46, 50)",
        description="Inspect and maintain the query log (Art. 25) and feedback outbox (Art. 46).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = audit.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, help_: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_, description=help_, epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.add_argument("--db", metavar="PATH_OR_URL", help=_DB_HELP)
        sub.set_defaults(handler=handler)
        return sub

    verify = command("verify", "walk the hash chain and name the first broken link", _cmd_verify)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")

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


#: Registration functions of the command groups, in the order ``--help`` lists them.
COMMAND_GROUPS: list[Callable[[Any], None]] = [add_audit_commands]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="credit-sdk",
        description="Social-credit reward/punishment checks for government business systems.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"credit-sdk {__version__}")
    groups = parser.add_subparsers(
        dest="group", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for register in COMMAND_GROUPS:
        register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see ``EXIT_CODES``)."""
    from credit_sdk._audit._common import StoreCorrupt, StoreNotFound

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.handler(args))
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except _UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except InvalidIdentifier as exc:
        _err(f"--subject: not a valid identifier (rule: {exc.rule})")
        return EXIT_USAGE
    except (ConfigurationError, InvalidQuery) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except StoreNotFound as exc:
        _err(str(exc))
        return EXIT_DB_MISSING
    except StoreCorrupt as exc:
        _err(str(exc))
        return EXIT_DB_CORRUPT
    except AuditIntegrityError as exc:
        _err(str(exc))
        return EXIT_BROKEN_CHAIN
    except AuditError as exc:
        _err(str(exc))
        return EXIT_DB_UNAVAILABLE
    except BrokenPipeError:  # `credit-sdk audit export | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
