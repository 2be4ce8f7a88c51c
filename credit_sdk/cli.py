"""The ``credit-sdk`` command line.

Commands come in groups (``credit-sdk audit verify``); each group is registered by a function
in :data:`COMMAND_GROUPS` that adds its sub-parsers and sets ``handler`` on each, so a new group
is one function and one list entry. The groups:

* ``check``: check a subject (or a CSV file of subjects) at an Art. 27 decision point, through
  a client built from ``CREDIT_SDK_*`` variables or ``--sandbox URL``;
* ``lists``: show the measure lists in use, validate list files (Art. 39–48), diff editions;
* ``feedback``: deliver the Art. 46 feedback outbox now, requeue dead letters;
* ``audit``: verify, export, count and prune the query log (Art. 25, 50);
* ``sandbox``: run the development platform.

Every command returns one of the exit codes in :data:`EXIT_CODES` (one table for all of them),
and nothing prints a raw identifier: subjects appear in their masked form.

>>> main(["audit", "verify", "--db", "memory:"])
chain verified: 0 records, head 0 0000000000000000000000000000000000000000000000000000000000000000
0
>>> main(["lists", "validate", "no/such/list.json"])
2
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import (
    AuditError,
    AuditIntegrityError,
    AuthorizationError,
    CatalogError,
    ConfigurationError,
    CreditSDKError,
    InvalidIdentifier,
    InvalidQuery,
    PlatformError,
    PolicyError,
)
from credit_sdk._version import __version__

if TYPE_CHECKING:
    from credit_sdk._catalog import MeasureList
    from credit_sdk._client import CreditClient
    from credit_sdk._decision import Decision
    from credit_sdk._query import Authorization, QueryContext
    from credit_sdk._scenarios import Scenario

__all__ = ["COMMAND_GROUPS", "EXIT_CODES", "build_parser", "main"]

EXIT_OK = 0
EXIT_BROKEN_CHAIN = 1
EXIT_USAGE = 2
EXIT_DB_MISSING = 3
EXIT_DB_CORRUPT = 4
EXIT_DB_UNAVAILABLE = 5
EXIT_CONFIG = 6
EXIT_PLATFORM = 7
EXIT_INVALID_LIST = 8
EXIT_DEAD_LETTERS = 9
EXIT_RESTRICTED = 10
EXIT_REVIEW = 11
EXIT_INDETERMINATE = 12
EXIT_INTERRUPTED = 130

#: The exit code of a check by outcome. INCENTIVES is 0 on purpose: incentives are benefits,
#: nothing blocks the matter, and a shell script that stops on a non-zero code must not stop
#: a subject on the red list. Use ``--json`` to tell CLEAR and INCENTIVES apart.
OUTCOME_EXIT_CODES: dict[str, int] = {
    "CLEAR": EXIT_OK,
    "INCENTIVES": EXIT_OK,
    "RESTRICTED": EXIT_RESTRICTED,
    "REVIEW": EXIT_REVIEW,
    "INDETERMINATE": EXIT_INDETERMINATE,
}

EXIT_CODES = """\
exit codes: (one table for every command)
   0  success; check: CLEAR or INCENTIVES (incentives block nothing; --json tells them apart)
   1  the query log's hash chain does not verify (audit verify, audit prune)
   2  bad arguments (unknown option, unreadable file or key file, invalid identifier or
      date, a natural person's authorisation missing in a personnel scenario, Art. 25, 56)
   3  the database does not exist (file missing, PostgreSQL database absent)
   4  the database is not a readable credit-sdk query log (garbage, damaged, other schema)
   5  the database could not be used (server down, locked, permission denied, write
      failed); a check fails closed with this code: nothing was decided
   6  configuration: the CREDIT_SDK_* environment or the --sandbox options cannot make a
      client (missing URL, credential, query log or key); sandbox: cannot listen
   7  the platform could not be reached or refused: feedback still pending, no lists;
      check only with CREDIT_SDK_RAISE_ON_UNAVAILABLE=true (else it answers 12)
   8  lists: a measure-list file breaks a rule (the message names list, measure, rule)
   9  feedback flush: dead letters wait for a person (see credit-sdk audit stats; once
      settled, credit-sdk feedback requeue sends them again)
  10  check: RESTRICTED, a restriction or punishment applies
  11  check: REVIEW, a measure depends on a record under objection (Art. 53)
  12  check: INDETERMINATE, no usable credit data: never read this as clear;
      check --file: the highest code of any subject, a row not checked counts as 12
 130  interrupted (Ctrl-C)
"""

_DB_HELP = (
    "query log: a SQLite file path or a postgresql:// URL (add ?schema=NAME for a schema "
    "other than credit_sdk); default: $CREDIT_SDK_AUDIT_DB"
)


class _Formatter(argparse.HelpFormatter):
    """Wraps prose to the terminal, but keeps text laid out in lines (examples, the exit-code
    table) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


_RAW = _Formatter


class _UsageError(Exception):
    """A problem with the arguments that argparse itself cannot see."""


class _ConfigError(Exception):
    """The environment or the client options cannot make a working client."""


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so that ``main`` returns an exit code to its caller."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        raise _UsageError(f"{self.prog}: {message}")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"credit-sdk: {text}\n")


def _epilog(examples: str) -> str:
    return f"examples:\n{examples.rstrip()}\n\n{EXIT_CODES}"


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


_AUDIT_EXAMPLES = {
    "verify": "  credit-sdk audit verify --db credit-audit.db --json",
    "export": (
        "  credit-sdk audit export --db credit-audit.db --subject ID --key-file pseudonym.key "
        "-o subject.jsonl\n"
        "  credit-sdk audit export --organ 230100-SCJGJ --since 2026-01-01 --format csv"
    ),
    "stats": "  credit-sdk audit stats --db credit-audit.db",
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


# -- building a client ---------------------------------------------------------------------------


def _add_client_options(parser: argparse.ArgumentParser, *, db_help: str | None = None) -> None:
    group = parser.add_argument_group(
        "platform and query log",
        "By default the client is built from the CREDIT_SDK_* environment "
        "(CreditClient.from_env(): CREDIT_SDK_BASE_URL, CREDIT_SDK_TOKEN, CREDIT_SDK_AUDIT_DB, "
        "CREDIT_SDK_PSEUDONYM_KEY ...). --sandbox talks to a development sandbox instead.",
    )
    group.add_argument(
        "--sandbox",
        metavar="URL",
        help="use the sandbox platform at URL (development only; the query log is in memory "
        "unless --db or CREDIT_SDK_AUDIT_DB names one)",
    )
    group.add_argument(
        "--token",
        help="with --sandbox: its bearer token (default: $CREDIT_SDK_TOKEN, else the sandbox's "
        "public development token)",
    )
    group.add_argument("--db", metavar="PATH_OR_URL", help=db_help or _DB_HELP)


def _sandbox_token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    env = os.environ.get("CREDIT_SDK_TOKEN", "").strip()
    if env:
        return env
    try:
        from credit_sdk.sandbox.app import DEFAULT_TOKEN
    except ImportError:  # the sandbox extra is not installed here; the sandbox may run elsewhere
        raise _UsageError("--sandbox needs --token (or CREDIT_SDK_TOKEN)") from None
    return DEFAULT_TOKEN


@contextlib.contextmanager
def _client(
    args: argparse.Namespace, *, create_log: bool = True, ready: bool = False
) -> Iterator[CreditClient]:
    """The client a command works through, and its query log; both closed on exit.

    ``--sandbox URL`` builds ``CreditClient.sandbox(...)`` (honouring ``CREDIT_SDK_AUDIT_DB``,
    ``CREDIT_SDK_PSEUDONYM_KEY`` and ``CREDIT_SDK_LISTS_DIR`` when set); otherwise
    ``CreditClient.from_env()`` with ``--db`` (if given) in place of ``CREDIT_SDK_AUDIT_DB``.
    Configuration problems become exit code 6, with the message that names what is missing.
    """
    from credit_sdk._audit import open_query_log
    from credit_sdk._client import CreditClient, _env_kwargs, _pseudonym_key, _read_secret_env

    if args.token and not args.sandbox:
        raise _UsageError("--token is only used with --sandbox (else set CREDIT_SDK_TOKEN)")
    log: Any = None
    try:
        if args.sandbox:
            if not args.sandbox.startswith(("http://", "https://")):
                raise _UsageError("--sandbox: expected a URL such as http://127.0.0.1:8765")
            token = _sandbox_token(args)
            target = args.db or os.environ.get("CREDIT_SDK_AUDIT_DB", "").strip()
            raw_key = _read_secret_env("CREDIT_SDK_PSEUDONYM_KEY", os.environ)
            key = _pseudonym_key(raw_key) if raw_key else None
            # Per-row commits: a one-shot command has no concurrent checks to group.
            log = open_query_log(target, create=create_log, group_commit=False) if target else None
            extra: dict[str, Any] = {}
            if os.environ.get("CREDIT_SDK_LISTS_DIR"):
                extra["lists_dir"] = os.environ["CREDIT_SDK_LISTS_DIR"]
            client = CreditClient.sandbox(
                args.sandbox, token=token, audit=log, pseudonym_key=key, **extra
            )
        else:
            environ = dict(os.environ)
            if args.db:
                environ["CREDIT_SDK_AUDIT_DB"] = args.db
            _env_kwargs(environ)  # validates everything first, so no log is opened in vain
            log = open_query_log(
                environ["CREDIT_SDK_AUDIT_DB"].strip(), create=create_log, group_commit=False
            )
            client = CreditClient.from_env(environ, audit=log)
    except (ConfigurationError, PolicyError) as err:  # PolicyError: an unknown profile id
        if log is not None:
            log.close()
        raise _ConfigError(str(err)) from err
    except BaseException:
        if log is not None:
            log.close()
        raise
    try:
        with client:
            if ready:
                # One list sync first, so that a check is decided on the platform's verified
                # lists rather than flagged STALE_LISTS on the shipped ones; when the platform
                # is down this returns on the last-known-good (or shipped) lists.
                client.wait_until_ready(timeout=10.0)
            yield client
    finally:
        if log is not None:
            log.close()


# -- check ---------------------------------------------------------------------------------------

_CONTEXT_FLAGS = {
    "QueryContext.organ": "--organ",
    "QueryContext.operator": "--operator",
    "QueryContext.matter_code": "--matter-code",
    "QueryContext.purpose": "--purpose",
    "Authorization.grant_id": "--grant-id",
    "Authorization.purpose": "--grant-purpose",
    "Authorization.scope": "--grant-scope",
}


def _flag_names(message: str) -> str:
    """Name the options the user typed instead of the dataclass fields they fill."""
    for field_name, flag in _CONTEXT_FLAGS.items():
        message = message.replace(field_name, flag)
    return message


def _parse_date(text: str, *, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _UsageError(f"{name}: expected a date, YYYY-MM-DD") from None


def _scenario(text: str) -> Scenario:
    from credit_sdk._scenarios import Scenario

    try:
        return Scenario.parse(text)
    except InvalidQuery as err:
        raise _UsageError(f"--scenario: {err}") from None


def _context(args: argparse.Namespace) -> QueryContext:
    from credit_sdk._query import QueryContext

    try:
        return QueryContext(
            organ=args.organ,
            operator=args.operator,
            matter_code=args.matter_code,
            purpose=args.purpose,
        )
    except InvalidQuery as err:
        raise _UsageError(_flag_names(str(err))) from None


def _grant(
    grant_id: str | None,
    expires: str | None,
    granted_on: str | None,
    args: argparse.Namespace,
    scenario: Scenario,
) -> Authorization | None:
    """An :class:`Authorization` from the ``--grant-*`` options (or a CSV row's columns)."""
    from credit_sdk._query import Authorization

    if not grant_id:
        if expires or granted_on:
            raise _UsageError("--grant-expires and --granted-on need --grant-id")
        return None
    if not expires:
        raise _UsageError(
            "an authorisation needs its expiry: --grant-expires YYYY-MM-DD (Art. 56: no "
            "authorisation is valid for life)"
        )
    start = _parse_date(granted_on, name="--granted-on") if granted_on else _china_today()
    try:
        return Authorization(
            grant_id=grant_id,
            scope=tuple(args.grant_scope or (scenario.value,)),
            purpose=args.grant_purpose or args.purpose,
            granted_on=start,
            expires_on=_parse_date(expires, name="--grant-expires"),
        )
    except AuthorizationError as err:
        raise _UsageError(_flag_names(str(err))) from None


@dataclass(slots=True)
class _Row:
    line: int
    subject: str
    grant: Authorization | None = None
    error: str | None = None


_SUBJECT_COLUMNS = ("subject", "identifier", "id")


def _read_subjects(path: str, args: argparse.Namespace, scenario: Scenario) -> list[_Row]:
    """Subjects from a CSV file: one identifier per line, or a header row naming the columns
    ``subject`` (or ``identifier``/``id``) and, for authorisations, ``grant_id``,
    ``grant_expires`` and ``granted_on``. Blank lines and ``#`` comments are skipped."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise _UsageError(f"--file: cannot read {path!r}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise _UsageError(f"--file: {path!r} is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[_Row] = []
    for record in reader:
        line = reader.line_num
        cells = [c.strip() for c in record]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None and not rows and cells[0].lower() in _SUBJECT_COLUMNS:
            header = [c.lower() for c in cells]
            unknown = set(header) - {*_SUBJECT_COLUMNS, "grant_id", "grant_expires", "granted_on"}
            if unknown:
                raise _UsageError(f"--file: unknown column(s) {sorted(unknown)} in the header")
            continue
        if header is None:
            if len([c for c in cells if c]) > 1:
                raise _UsageError(
                    f"--file: line {line} has several columns; add a header row "
                    "(subject,grant_id,grant_expires,granted_on) to give authorisations"
                )
            rows.append(_Row(line, cells[0]))
            continue
        values = dict(zip(header, cells, strict=False))
        row = _Row(line, values.get(header[0], ""))
        try:
            row.grant = _grant(
                values.get("grant_id"),
                values.get("grant_expires"),
                values.get("granted_on"),
                args,
                scenario,
            )
        except _UsageError as err:
            # One bad authorisation fails its own row, like an invalid identifier does.
            row.error = f"authorisation: {err}"
        rows.append(row)
    if not rows:
        raise _UsageError(f"--file: no subjects in {path!r}")
    return rows


class _Progress:
    """``checked 400/1000`` on stderr: rewritten in place on a terminal, a line per step
    otherwise (CI logs)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        text = f"checked {done}/{self.total} subjects"
        if self.tty:
            sys.stderr.write(f"\r{text}")
            if done >= self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _cmd_check(args: argparse.Namespace) -> int:
    from credit_sdk._identifiers import parse_identifier

    if (args.subject is None) == (args.file is None):
        raise _UsageError("give one subject ID or --file FILE (not both)")
    scenario = _scenario(args.scenario)
    ctx = _context(args)
    as_of = _parse_date(args.as_of, name="--as-of") if args.as_of else None
    # Everything local is validated before any I/O (steps 1-2 of a check).
    if args.file is not None:
        if args.grant_id or args.grant_expires or args.granted_on:
            raise _UsageError("with --file, give authorisations in the file's grant_* columns")
        rows = _read_subjects(args.file, args, scenario)
        with _client(args, ready=True) as client:
            return _check_batch(client, rows, scenario, ctx, as_of, args)
    try:
        ident = parse_identifier(args.subject)
    except InvalidIdentifier as err:
        raise _UsageError(f"ID: not a valid identifier (rule: {err.rule})") from None
    grant = _grant(args.grant_id, args.grant_expires, args.granted_on, args, scenario)
    with _client(args, ready=True) as client:
        try:
            decision = client.check(ident, scenario, ctx, authorization=grant, as_of=as_of)
        except AuthorizationError as err:
            hint = "" if grant is not None else "; pass --grant-id ID --grant-expires DATE"
            raise _UsageError(f"{_flag_names(str(err))}{hint}") from None
    if args.json:
        _out(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        _out(decision.explain())
        _out(f"\n查询编号 Query id: {decision.query_id}  (for feedback and the query log)")
    return OUTCOME_EXIT_CODES[decision.outcome.value]


def _check_batch(
    client: CreditClient,
    rows: list[_Row],
    scenario: Scenario,
    ctx: QueryContext,
    as_of: date | None,
    args: argparse.Namespace,
) -> int:
    todo = [r for r in rows if r.error is None]
    progress = _Progress(len(todo), enabled=not args.no_progress and len(todo) > client.batch_size)
    # Chunks of what the client runs at once: one progress step per round of batch requests.
    step = client.batch_size * client.batch_concurrency
    results: dict[int, tuple[Decision | None, CreditSDKError | None, str | None]] = {}
    for start in range(0, len(todo), step):
        part = todo[start : start + step]
        grants = {r.subject: r.grant for r in part if r.grant is not None}
        answers = client.check_many(
            [r.subject for r in part], scenario, ctx, authorizations=grants or None, as_of=as_of
        )
        for row, result in zip(part, answers, strict=True):
            results[row.line] = (result.decision, result.error, result.subject)
        progress.update(min(start + step, len(todo)))
    code = EXIT_OK
    counts: dict[str, int] = {}
    table: list[tuple[str, ...]] = []
    for row in rows:
        decision, error, masked = results.get(row.line, (None, None, None))
        if decision is not None:
            outcome = decision.outcome.value
            code = max(code, OUTCOME_EXIT_CODES[outcome])
            counts[outcome] = counts.get(outcome, 0) + 1
            if args.json:
                _out(json.dumps({"line": row.line, **decision.to_dict()}, ensure_ascii=False))
                continue
            ids = [m.measure_id for m in (*decision.restrictions, *decision.held_for_review)]
            ids += [m.measure_id for m in decision.incentives]
            table.append(
                (
                    str(row.line),
                    decision.subject,
                    outcome,
                    str(len(decision.restrictions)),
                    str(len(decision.incentives)),
                    str(len(decision.held_for_review)),
                    ", ".join(ids) or "-",
                )
            )
            continue
        code = max(code, EXIT_INDETERMINATE)
        counts["NOT CHECKED"] = counts.get("NOT CHECKED", 0) + 1
        why = row.error or _describe_error(error)
        if args.json:
            _out(json.dumps({"line": row.line, "subject": masked, "error": why}))
            continue
        table.append((str(row.line), masked or "-", "NOT CHECKED", "-", "-", "-", why))
    if not args.json:
        _print_table(("LINE", "SUBJECT", "OUTCOME", "R", "I", "H", "MEASURES / WHY"), table)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        _out(f"\n{len(rows)} subjects at {scenario.value}: {summary}")
        _out("R restrictions, I incentives, H held for review (Art. 53); query ids: --json")
    return code


def _describe_error(error: CreditSDKError | None) -> str:
    if error is None:
        return "not checked"
    if isinstance(error, InvalidIdentifier):
        return f"invalid identifier (rule: {error.rule})"
    return f"{type(error).__name__}: {_flag_names(str(error))}"


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([_width(h), *(_width(r[i]) for r in rows)]) for i, h in enumerate(header)]
    for line in (header, *rows):
        cells = [c + " " * (w - _width(c)) for c, w in zip(line, widths, strict=True)]
        _out("  ".join(cells).rstrip())


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def add_check_command(groups: Any) -> None:
    """``credit-sdk check ID|--file FILE --scenario ... --organ ... --operator ... --purpose``."""
    check = groups.add_parser(
        "check",
        help="check a subject (or a CSV of subjects) at an Art. 27 decision point",
        description=(
            "Check a credit subject at one of the decision points of Art. 27 and print the "
            "published measures that apply, each with its legal basis (设定依据), implementing "
            "body (实施主体) and the record that triggered it, and why anything was left out. "
            "Every check is written to the query log (Art. 25). The exit code tells the outcome."
        ),
        epilog=_epilog(
            """\
  # a single subject, against a sandbox started with `credit-sdk sandbox`
  # (the identifiers below are the sandbox's synthetic seeded subjects)
  credit-sdk check 91230100MA1EXA017F --scenario government_procurement \\
      --organ 230100-CZJ --operator u1024 --purpose "tender 2026-17 supplier check" \\
      --sandbox http://127.0.0.1:8765

  # production: the client comes from CREDIT_SDK_* variables; JSON for machines
  credit-sdk check 91230100MA1EXA0928 --scenario admin_licensing --organ 230100-SCJGJ \\
      --operator u1024 --matter-code LIC-FOOD --purpose "licence application 2026-118" --json

  # a natural person in a personnel scenario needs their authorisation (Art. 25, 56)
  credit-sdk check 23010319850715023X --scenario civil_service_hiring --organ 230100-RSJ \\
      --operator u7 --purpose "2026 recruitment" --grant-id G-2026-0042 \\
      --grant-expires 2027-06-30

  # every bidder of a tender; progress on stderr, one row per subject
  credit-sdk check --file bidders.csv --scenario bidding --organ 230100-GGZY \\
      --operator u9 --purpose "tender 2026-17"

scenarios: admin_licensing, admin_penalty, certification, public_service,
  government_procurement, bidding, public_resource_trading, fiscal_funds, policy_support,
  awards, honorary_titles, civil_service_hiring, personnel_transfer, appointment, promotion,
  qualification_review, election_qualification, other"""
        ),
        formatter_class=_RAW,
    )
    check.add_argument(
        "subject",
        nargs="?",
        metavar="ID",
        help="resident ID number, USCC, or TYPE:NUMBER for other certificates",
    )
    check.add_argument(
        "--file",
        metavar="FILE",
        help="check every subject of a CSV file ('-' for stdin): one identifier per line, or "
        "a header row with subject[,grant_id,grant_expires,granted_on]",
    )
    context = check.add_argument_group("query context (Art. 23, 25: all recorded in the log)")
    context.add_argument("--scenario", required=True, help="the Art. 27 decision point")
    context.add_argument("--organ", required=True, help="the state organ asking (国家机关)")
    context.add_argument("--operator", required=True, help="the case officer's user id")
    context.add_argument("--purpose", required=True, help="why: the matter being decided")
    context.add_argument(
        "--matter-code",
        default="CLI",
        help="the matter's code (事项编码); default CLI marks an ad-hoc command-line query",
    )
    context.add_argument(
        "--as-of", metavar="DATE", help="decide as on this date (default: today, China time)"
    )
    grant = check.add_argument_group(
        "authorisation (Art. 25, 56: natural persons in personnel, qualification, election "
        "and honours scenarios)"
    )
    grant.add_argument("--grant-id", metavar="ID", help="the authorisation's grant id")
    grant.add_argument("--grant-expires", metavar="DATE", help="its expiry (required with it)")
    grant.add_argument("--granted-on", metavar="DATE", help="its date (default: today)")
    grant.add_argument(
        "--grant-scope",
        action="append",
        metavar="NAME",
        help="scenario, family or data category it covers (repeatable; default: --scenario)",
    )
    grant.add_argument(
        "--grant-purpose", metavar="TEXT", help="the agreed use (default: --purpose)"
    )
    output = check.add_argument_group("output")
    output.add_argument(
        "--json",
        action="store_true",
        help="the decision as JSON (with --file: one JSON object per line)",
    )
    output.add_argument(
        "--no-progress", action="store_true", help="with --file: no progress on stderr"
    )
    _add_client_options(check)
    check.set_defaults(handler=_cmd_check)


# -- lists ---------------------------------------------------------------------------------------


def _list_files(paths: Sequence[str]) -> list[Path]:
    """Files named, and the ``*.json`` files of directories named; missing paths are usage
    errors (a typo must not read as "nothing to validate")."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise _UsageError(f"{name}: no *.json measure-list file in this directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise _UsageError(f"{name}: no such file or directory")
    return files


def _summary(lst: MeasureList, today: date) -> dict[str, Any]:
    return {
        "list_id": lst.list_id,
        "version": lst.version,
        "title": lst.title,
        "kind": lst.kind.value,
        "jurisdiction": lst.jurisdiction,
        "publication": lst.publication.reference,
        "published_on": lst.publication.date.isoformat(),
        "effective_from": lst.effective_from.isoformat(),
        "effective_until": lst.effective_until.isoformat() if lst.effective_until else None,
        "in_force": lst.in_force_at(today),
        "provenance": lst.provenance.status,
        "measures": len(lst.measures),
        "sha256": lst.sha256,
    }


def _china_today() -> date:
    # Lists take effect on Chinese calendar days, whatever the host's time zone.
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def _cmd_lists_show(args: argparse.Namespace) -> int:
    from credit_sdk._catalog import Catalog
    from credit_sdk._explain import format_range_item

    today = _china_today()
    if args.paths and (args.sandbox or args.shipped):
        raise _UsageError("give list files, --shipped or --sandbox, not several sources")
    if args.paths:
        lists: tuple[MeasureList, ...] = Catalog.load(_list_files(args.paths)).lists
        source = f"files ({len(lists)} editions, validated)"
    elif args.shipped or not (args.sandbox or os.environ.get("CREDIT_SDK_BASE_URL")):
        lists = Catalog.default().lists
        source = "the lists shipped with credit-sdk (offline default; SAMPLE lists are labelled)"
        if not args.shipped:
            source += "; set CREDIT_SDK_BASE_URL or pass --sandbox URL for the platform's"
    else:
        with _client(args) as client:
            status = client.wait_until_ready(timeout=args.timeout)
            lists = client.lists()
        synced = status.lists_synced_at
        source = (
            f"platform {client.base_url}: {status.lists_source or 'no'} lists"
            + (f", synced {_fmt(synced)}" if synced else "")
            + (" [STALE: past max_list_staleness]" if status.lists_stale else "")
        )
    if args.list:
        matches = [lst for lst in lists if lst.list_id == args.list]
        if args.version:
            matches = [lst for lst in matches if lst.version == args.version]
        if not matches:
            known = ", ".join(sorted({lst.list_id for lst in lists})) or "none"
            raise _UsageError(f"--list: no such list or edition here (lists: {known})")
        lst = max(matches, key=lambda m: m.effective_from)
        if args.json:
            _out(json.dumps(lst.model_dump(mode="json"), ensure_ascii=False, indent=2))
            return EXIT_OK
        _out(f"{lst.list_id} {lst.version}: {lst.title}")
        _out(
            f"  {lst.kind.value}, {lst.jurisdiction}; published {lst.publication.reference} on "
            f"{lst.publication.date}; in force {lst.effective_from}.."
            f"{lst.effective_until or ''} "
            f"({'in force' if lst.in_force_at(today) else 'not in force'} today)"
        )
        _out(f"  provenance: {lst.provenance.status}: {lst.provenance.statement}")
        _out(f"  sha256 {lst.sha256}")
        for m in lst.measures:
            _out("")
            flag = " (voluntary, Art. 48)" if m.voluntary else ""
            _out(f"  {m.measure_id}  {m.kind.value}{flag}  {format_range_item(m.range_item)}")
            _out(f"    措施 {m.title}")
            _out(f"    设定依据 {'；'.join(m.legal_basis)}")
            _out(f"    实施主体 {m.implementing_body.name}")
            _out(f"    scenarios {', '.join(m.scenarios)}")
        return EXIT_OK
    summaries = [_summary(lst, today) for lst in sorted(lists, key=lambda m: m.ref)]
    if args.json:
        _out(json.dumps(summaries, ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(f"source: {source}")
    _print_table(
        ("LIST", "VERSION", "KIND", "MEASURES", "IN FORCE", "PROVENANCE", "SHA256"),
        [
            (
                s["list_id"],
                s["version"],
                s["kind"],
                str(s["measures"]),
                "yes" if s["in_force"] else "no",
                s["provenance"],
                s["sha256"][:12],
            )
            for s in summaries
        ],
    )
    return EXIT_OK


def _cmd_lists_validate(args: argparse.Namespace) -> int:
    from credit_sdk._catalog import Catalog, MeasureList

    files = _list_files(args.paths)
    loaded: list[MeasureList] = []
    report: list[dict[str, Any]] = []
    for path in files:
        try:
            lst = MeasureList.load(path)
        except CatalogError as err:
            report.append(
                {
                    "path": str(path),
                    "ok": False,
                    "list_id": err.list_id,
                    "measure_id": err.measure_id,
                    "rule": err.rule,
                    "error": str(err),
                }
            )
            continue
        loaded.append(lst)
        report.append(
            {
                "path": str(path),
                "ok": True,
                "list_id": lst.list_id,
                "version": lst.version,
                "measures": len(lst.measures),
                "sha256": lst.sha256,
            }
        )
    together: str | None = None
    if loaded and all(r["ok"] for r in report):
        try:
            Catalog(tuple(loaded))  # the set must load as one catalog (no edition twice)
        except CatalogError as err:
            together = str(err)
    ok = all(r["ok"] for r in report) and together is None
    if args.json:
        _out(json.dumps({"ok": ok, "files": report, "catalog_error": together}, indent=2,
                        ensure_ascii=False))  # fmt: skip
    else:
        for r in report:
            if r["ok"]:
                _out(
                    f"ok    {r['path']}: {r['list_id']} {r['version']}, {r['measures']} measures, "
                    f"sha256 {r['sha256'][:12]}"
                )
            else:
                _out(f"FAIL  {r['path']}: {r['error']}")
        if together is not None:
            _out(f"FAIL  together: {together}")
        failed = sum(not r["ok"] for r in report) + (together is not None)
        _out(f"{len(report)} file(s), {failed} problem(s)")
    return EXIT_OK if ok else EXIT_INVALID_LIST


def _cmd_lists_diff(args: argparse.Namespace) -> int:
    from credit_sdk._catalog import MeasureList, diff_lists

    old_path, new_path = _list_files([args.old]), _list_files([args.new])
    if len(old_path) != 1 or len(new_path) != 1:
        raise _UsageError("diff compares two list files, not directories")
    old, new = MeasureList.load(old_path[0]), MeasureList.load(new_path[0])
    if old.list_id != new.list_id:
        raise _UsageError(
            f"these are editions of different lists ({old.list_id!r}, {new.list_id!r})"
        )
    diff = diff_lists(old, new)
    if args.json:
        _out(json.dumps(asdict(diff) | {"empty": diff.empty}, ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(diff.summary())
    for label, a, b in (
        ("effective_from", old.effective_from, new.effective_from),
        ("effective_until", old.effective_until, new.effective_until),
        ("publication", old.publication.reference, new.publication.reference),
    ):
        if a != b:
            _out(f"  {label}: {a} -> {b}")
    return EXIT_OK


def add_lists_commands(groups: Any) -> None:
    """``credit-sdk lists {show,validate,diff}`` (Art. 39–48)."""
    lists = groups.add_parser(
        "lists",
        help="measure lists: show those in use, validate files, diff editions (Art. 39-48)",
        description="Measure lists (措施清单): only published measures with their five Art. 39 "
        "elements may be applied, and a list that breaks a rule of Art. 39-48 does not load.",
        epilog=_epilog(
            """\
  credit-sdk lists show                         # shipped lists, or the platform's if configured
  credit-sdk lists show --sandbox http://127.0.0.1:8765 --list hlj-incentive-sample
  credit-sdk lists validate my-lists/           # before publishing a provincial edition
  credit-sdk lists diff hlj-sup-2025.json hlj-sup-2026.json"""
        ),
        formatter_class=_RAW,
    )
    commands = lists.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = commands.add_parser(
        "show",
        help="the editions in use (platform, shipped or files), or one list's measures",
        description="Show the measure-list editions decisions are made on: the platform's "
        "verified lists (CREDIT_SDK_* environment or --sandbox), the shipped ones (--shipped, "
        "also the default when no platform is configured), or files.",
        epilog=_epilog(
            """\
  credit-sdk lists show --shipped
  credit-sdk lists show --list hlj-supplementary-punishment-sample
  credit-sdk lists show my-lists/ --json"""
        ),
        formatter_class=_RAW,
    )
    show.add_argument("paths", nargs="*", metavar="PATH", help="list files or directories")
    show.add_argument("--shipped", action="store_true", help="the lists shipped with credit-sdk")
    show.add_argument("--list", metavar="LIST_ID", help="show this list's measures")
    show.add_argument("--version", metavar="V", help="with --list: this edition")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="wait at most S seconds for the platform's lists (default 10)",
    )
    _add_client_options(show)
    show.set_defaults(handler=_cmd_lists_show)

    validate = commands.add_parser(
        "validate",
        help="check list files against Art. 39-48 (exit 8 names list, measure and rule)",
        description="Load each file as the SDK would and report the first broken rule of each, "
        "naming the list, the measure and the rule; then check the files load together.",
        epilog=_epilog(
            """\
  credit-sdk lists validate hlj-supplementary-2026.json
  credit-sdk lists validate lists/ --json        # in CI before publishing"""
        ),
        formatter_class=_RAW,
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="list files or directories")
    validate.add_argument("--json", action="store_true", help="print the report as JSON")
    validate.set_defaults(handler=_cmd_lists_validate)

    diff = commands.add_parser(
        "diff",
        help="what changed between two editions of one list, measure by measure",
        description="Compare two editions of the same list: measures added, removed, and "
        "changed (with the fields that changed).",
        epilog=_epilog("  credit-sdk lists diff hlj-sup-2025.json hlj-sup-2026.json --json"),
        formatter_class=_RAW,
    )
    diff.add_argument("old", metavar="OLD", help="the earlier edition (file)")
    diff.add_argument("new", metavar="NEW", help="the later edition (file)")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(handler=_cmd_lists_diff)


# -- feedback ------------------------------------------------------------------------------------


def _cmd_feedback_flush(args: argparse.Namespace) -> int:
    if args.sandbox and not (args.db or os.environ.get("CREDIT_SDK_AUDIT_DB")):
        raise _UsageError(
            "the outbox lives in the query log: give --db PATH_OR_URL (or CREDIT_SDK_AUDIT_DB)"
        )
    # Never create a database here: an empty new log would report "nothing pending".
    with _client(args, create_log=False) as client:
        before = client.status().outbox
        stats = client.flush(timeout=args.timeout)
        error = client.status().last_feedback_error
    now = stats.delivered - (before.delivered if before is not None else 0)
    if args.json:
        _out(json.dumps(asdict(stats) | {"delivered_now": now}, default=_json_default))
    else:
        _out(
            f"delivered {now} now; pending {stats.pending} (in flight {stats.in_flight}), "
            f"dead letters {stats.dead}, delivered in total {stats.delivered}"
        )
        if stats.pending and error:
            _out(f"last error: {error}")
        if stats.dead:
            _out("dead letters were refused by the platform: see `credit-sdk audit stats`")
    if stats.pending:
        return EXIT_PLATFORM
    return EXIT_DEAD_LETTERS if stats.dead else EXIT_OK


def _cmd_feedback_requeue(args: argparse.Namespace) -> int:
    # Like the audit commands: open an existing log only, never create one.
    with _open_log(args) as log:
        count = log.requeue_dead_letters(args.id)
        stats = log.outbox_stats()
    if args.json:
        _out(json.dumps(asdict(stats) | {"requeued": count}, default=_json_default))
    else:
        _out(
            f"requeued {count} dead letters; pending {stats.pending} "
            f"(in flight {stats.in_flight}), dead letters {stats.dead}, "
            f"delivered {stats.delivered}"
        )
    return EXIT_OK


def add_feedback_commands(groups: Any) -> None:
    """``credit-sdk feedback {flush,requeue}`` (Art. 46)."""
    feedback = groups.add_parser(
        "feedback",
        help="Art. 46 result feedback: deliver the outbox now, requeue dead letters",
        description="Feedback (结果反馈, Art. 46) is written to a durable outbox in the query "
        "log and delivered in the background; flush delivers it now, requeue sends dead "
        "letters again once their cause is settled.",
        epilog=_epilog(
            """\
  credit-sdk feedback flush --timeout 60
  credit-sdk feedback requeue --db credit-audit.db --id 17"""
        ),
        formatter_class=_RAW,
    )
    commands = feedback.add_subparsers(dest="command", metavar="COMMAND", required=True)
    flush = commands.add_parser(
        "flush",
        help="deliver pending feedback; report delivered, pending and dead-letter counts",
        description="Deliver the feedback outbox of the query log through a client built from "
        "the environment (or --sandbox). Exit 0 when nothing is left, 7 when items are still "
        "pending (the platform did not take them), 9 when dead letters wait for a person.",
        epilog=_epilog(
            """\
  credit-sdk feedback flush                      # CREDIT_SDK_* environment
  credit-sdk feedback flush --sandbox http://127.0.0.1:8765 --db .demo/query-log.db --json"""
        ),
        formatter_class=_RAW,
    )
    flush.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="give up after S seconds (default 30)",
    )
    flush.add_argument("--json", action="store_true", help="print the counts as JSON")
    _add_client_options(flush, db_help=_DB_HELP + " (it holds the outbox)")
    flush.set_defaults(handler=_cmd_feedback_flush)

    requeue = commands.add_parser(
        "requeue",
        help="move dead letters back to pending, attempts reset; report the outbox counts",
        description="Move dead letters of the query log's outbox (all, or those given by --id) "
        "back to pending with their attempt count reset, so that the next flush or the "
        "background sender delivers them again. Ids that are not dead letters are ignored. "
        "Settle the cause with the platform operator first: a refused item is refused again.",
        epilog=_epilog(
            """\
  credit-sdk feedback requeue --db credit-audit.db              # every dead letter
  credit-sdk feedback requeue --db credit-audit.db --id 17 --id 18 --json"""
        ),
        formatter_class=_RAW,
    )
    requeue.add_argument(
        "--id",
        type=int,
        action="append",
        metavar="N",
        help="only this outbox id (repeatable; default: every dead letter)",
    )
    requeue.add_argument("--db", metavar="PATH_OR_URL", help=_DB_HELP + " (it holds the outbox)")
    requeue.add_argument("--json", action="store_true", help="print the counts as JSON")
    requeue.set_defaults(handler=_cmd_feedback_requeue)


# -- sandbox -------------------------------------------------------------------------------------


def add_sandbox_command(groups: Any) -> None:
    """``credit-sdk sandbox``: the development platform (its options live with it)."""
    from credit_sdk.sandbox import cli as sandbox_cli

    sandbox_cli.register(groups)
    parser: argparse.ArgumentParser = groups.choices["sandbox"]
    parser.formatter_class = _RAW
    parser.epilog = _epilog(
        """\
  credit-sdk sandbox                             # http://127.0.0.1:8765, in-memory store
  credit-sdk sandbox --port 0 --db sandbox.db    # any free port, state kept in a file
  # then, in another shell:
  credit-sdk check 91230102MA1EXA041W --scenario bidding --organ X --operator u1 \\
      --purpose demo --sandbox http://127.0.0.1:8765"""
    )
    run = parser.get_default("handler")

    def handler(args: argparse.Namespace) -> int:
        code = int(run(args))
        # The sandbox says 1 when it cannot listen: here 1 means a broken hash chain.
        return EXIT_CONFIG if code == 1 else code

    parser.set_defaults(handler=handler, func=handler)


#: Registration functions of the command groups, in the order ``--help`` lists them.
COMMAND_GROUPS: list[Callable[[Any], None]] = [
    add_check_command,
    add_lists_commands,
    add_feedback_commands,
    add_audit_commands,
    add_sandbox_command,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``credit-sdk`` parser with every group of :data:`COMMAND_GROUPS`.

    >>> build_parser().parse_args(["lists", "validate", "a.json"]).paths
    ['a.json']
    """
    parser = _Parser(
        prog="credit-sdk",
        description="Social-credit reward/punishment checks for government business systems: "
        "the published measures that apply at an Art. 27 decision point, with their legal "
        "basis; every query logged (Art. 25); results fed back (Art. 46).",
        epilog=_epilog(
            """\
  credit-sdk sandbox                                    # a development platform on loopback
  credit-sdk check ID --scenario bidding --organ O --operator U --purpose P \\
      --sandbox http://127.0.0.1:8765
  credit-sdk lists validate my-lists/
  credit-sdk audit verify --db /var/lib/app/credit-audit.db
  credit-sdk COMMAND --help                             # each command's options and examples"""
        ),
        formatter_class=_RAW,
    )
    parser.add_argument("--version", action="version", version=f"credit-sdk {__version__}")
    groups = parser.add_subparsers(
        dest="group", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for register in COMMAND_GROUPS:
        register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see :data:`EXIT_CODES`).

    >>> main(["--version"])  # doctest: +ELLIPSIS
    credit-sdk ...
    0
    """
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
    except _ConfigError as exc:
        _err(f"configuration: {exc}")
        return EXIT_CONFIG
    except InvalidIdentifier as exc:
        _err(f"--subject: not a valid identifier (rule: {exc.rule})")
        return EXIT_USAGE
    except (ConfigurationError, InvalidQuery) as exc:
        _err(_flag_names(str(exc)))
        return EXIT_USAGE
    except CatalogError as exc:
        _err(str(exc))
        return EXIT_INVALID_LIST
    except PolicyError as exc:  # e.g. --as-of outside the policy profile's dates
        _err(str(exc))
        return EXIT_USAGE
    except PlatformError as exc:
        _err(f"platform: {exc}")
        return EXIT_PLATFORM
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
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
