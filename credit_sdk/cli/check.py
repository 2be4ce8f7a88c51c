"""``credit-sdk check``: a subject, or a file of subjects, at an Art. 27 decision point."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import (
    AuthorizationError,
    CreditSDKError,
    InvalidIdentifier,
    InvalidQuery,
)
from credit_sdk._labels import Lang, bilingual, code_label
from credit_sdk.cli._common import (
    _RAW,
    EXIT_INDETERMINATE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    OUTCOME_EXIT_CODES,
    _add_client_options,
    _add_lang_option,
    _china_today,
    _client,
    _epilog,
    _err,
    _flag_names,
    _out,
    _parse_date,
    _print_table,
    _Progress,
    _UsageError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from credit_sdk._audit import QueryLog
    from credit_sdk._bulk import ClientConfig
    from credit_sdk._client import CreditClient
    from credit_sdk._decision import Decision
    from credit_sdk._query import Authorization, QueryContext
    from credit_sdk._scenarios import Scenario


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
    subject: Any,
) -> Authorization | None:
    """An :class:`Authorization` from the ``--grant-*`` options (or a CSV row's columns),
    bound to the subject it is given with (Art. 25, 56)."""
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
            subject=subject,
            grant_id=grant_id,
            scope=tuple(args.grant_scope or (scenario.value,)),
            purpose=args.grant_purpose or args.purpose,
            granted_on=start,
            expires_on=_parse_date(expires, name="--grant-expires"),
        )
    except AuthorizationError as err:
        raise _UsageError(_flag_names(str(err))) from None
    except InvalidIdentifier as err:
        raise _UsageError(f"not a valid identifier (rule: {err.rule})") from None


@dataclass(slots=True)
class _Row:
    line: int
    subject: str
    grant: Authorization | None = None
    error: str | None = None


#: Header names of the subject column (the first of them in the header is used).
_SUBJECT_COLUMNS = (
    "subject",
    "identifier",
    "id",
    "证件号码",
    "身份证号码",
    "身份证号",
    "统一社会信用代码",
    "信用代码",
    "主体标识",
)
_GRANT_COLUMNS = ("grant_id", "grant_expires", "granted_on")


def _decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without a BOM), else GB18030 (a superset of GBK: what Excel on a
    Chinese desktop saves as CSV)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _UsageError(f"--file: {path!r} is neither UTF-8 nor GB18030/GBK text") from None


def _read_subjects(path: str, args: argparse.Namespace, scenario: Scenario) -> list[_Row]:
    """Subjects from a CSV file: one identifier per line, or a header row naming the subject
    column (``subject``, ``identifier``, ``id``, ``证件号码``, ``统一社会信用代码`` ...) and, for
    authorisations, ``grant_id``, ``grant_expires`` and ``granted_on``. Other columns (a name,
    an address) are accepted and ignored: never read further, printed or logged. UTF-8 or
    GB18030/GBK. Blank lines and ``#`` comments are skipped."""
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            text = _decode(stream.read(), path) if stream is not None else sys.stdin.read()
        else:
            text = _decode(Path(path).read_bytes(), path)
    except OSError as err:
        raise _UsageError(f"--file: cannot read {path!r}: {err.strerror}") from None
    reader = csv.reader(io.StringIO(text))
    subject_at: int | None = None
    grant_at: dict[str, int] = {}
    rows: list[_Row] = []
    for record in _records(reader, path):
        line = reader.line_num
        cells = [c.strip() for c in record]
        if not any(cells) or cells[0].startswith("#"):
            continue
        names = [c.lower() for c in cells]
        if subject_at is None and not rows and any(n in _SUBJECT_COLUMNS for n in names):
            subject_at = next(i for i, n in enumerate(names) if n in _SUBJECT_COLUMNS)
            grant_at = {n: i for i, n in enumerate(names) if n in _GRANT_COLUMNS}
            continue
        if subject_at is None:
            if len([c for c in cells if c]) > 1:
                raise _UsageError(
                    f"--file: line {line} has several columns; add a header row naming the "
                    "subject column (subject or 证件号码/统一社会信用代码; grant_id, "
                    "grant_expires, granted_on for authorisations; other columns are ignored)"
                )
            rows.append(_Row(line, cells[0]))
            continue
        row = _Row(line, _cell(cells, subject_at) or "")
        try:
            row.grant = _grant(
                _cell(cells, grant_at.get("grant_id")),
                _cell(cells, grant_at.get("grant_expires")),
                _cell(cells, grant_at.get("granted_on")),
                args,
                scenario,
                row.subject,
            )
        except _UsageError as err:
            # One bad authorisation fails its own row, like an invalid identifier does.
            row.error = f"authorisation: {err}"
        rows.append(row)
    if not rows:
        raise _UsageError(f"--file: no subjects in {path!r}")
    return rows


def _records(reader: Any, path: str) -> Iterator[list[str]]:
    """The reader's records; a line the csv module cannot read (a field beyond its size limit,
    an unterminated quote) is a usage error naming the line, not a traceback."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise _UsageError(
                f"--file: line {reader.line_num} of {path!r} is not CSV this command reads "
                "(a field over 128 KiB, or a broken quote)"
            ) from None
        yield record


def _process_count(text: str) -> int:
    from credit_sdk._bulk import MAX_PROCESSES

    if not (text.isascii() and text.isdigit() and int(text) <= MAX_PROCESSES):
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_PROCESSES}")
    return int(text)


def _cell(cells: list[str], index: int | None) -> str | None:
    return cells[index] if index is not None and index < len(cells) else None


def _cmd_check(args: argparse.Namespace) -> int:
    from credit_sdk._identifiers import parse_identifier

    if (args.subject is None) == (args.file is None):
        raise _UsageError("give one subject ID or --file FILE (not both)")
    if args.processes != 1 and args.file is None:
        raise _UsageError("--processes works with --file")
    scenario = _scenario(args.scenario)
    ctx = _context(args)
    as_of = _parse_date(args.as_of, name="--as-of") if args.as_of else None
    for flag, target in (("--html", args.html), ("--output", args.output)):
        if target is not None and not Path(target).parent.is_dir():
            raise _UsageError(f"{flag}: no such directory for {target!r}")
    # Everything local is validated before any I/O (steps 1-2 of a check).
    if args.file is not None:
        if args.grant_id or args.grant_expires or args.granted_on:
            raise _UsageError("with --file, give authorisations in the file's grant_* columns")
        rows = _read_subjects(args.file, args, scenario)
        if args.processes != 1:
            return _check_batch_processes(rows, scenario, ctx, as_of, args)
        with _client(args, ready=True) as client:
            return _check_batch(client, rows, scenario, ctx, as_of, args)
    try:
        ident = parse_identifier(args.subject)
    except InvalidIdentifier as err:
        raise _UsageError(f"ID: not a valid identifier (rule: {err.rule})") from None
    grant = _grant(args.grant_id, args.grant_expires, args.granted_on, args, scenario, ident)
    with _client(args, ready=True) as client:
        try:
            decision = client.check(ident, scenario, ctx, authorization=grant, as_of=as_of)
        except AuthorizationError as err:
            hint = "" if grant is not None else "; pass --grant-id ID --grant-expires DATE"
            raise _UsageError(f"{_flag_names(str(err))}{hint}") from None
        _write_files(args, [decision], [None], [str(decision.subject)], client.query_log)
    if args.json:
        _out(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        _out(decision.explain(args.lang))
        query = bilingual("查询编号", "Query id", args.lang)
        _out(f"\n{query}: {decision.query_id}  (for feedback and the query log)")
    return OUTCOME_EXIT_CODES[decision.outcome.value]


def _write_files(
    args: argparse.Namespace,
    decisions: list[Decision | None],
    notes: list[str | None],
    lines: list[str],
    log: QueryLog | None,
) -> None:
    """``--html FILE`` (the verification sheet) and ``--output FILE`` (CSV for a desk)."""
    from credit_sdk._desk_csv import decisions_csv
    from credit_sdk._sheet import verification_sheet

    lang = args.lang
    if args.html is not None:
        headings = None
        if args.file is not None:
            headings = [f"{bilingual('行', 'line', lang)} {line}" for line in lines]
        checked = [d for d in decisions if d is not None] or None
        if checked is not None:
            html = verification_sheet(
                decisions if args.file is not None else checked,
                lang=lang,
                log=log,
                headings=headings,
                notes=notes if args.file is not None else None,
            )
            Path(args.html).write_text(html, encoding="utf-8")
    if args.output is not None:
        columns = {bilingual("行号", "Line", lang): lines} if args.file is not None else {}
        text = decisions_csv(decisions, lang=lang, columns=columns, notes=notes)
        Path(args.output).write_text(text, encoding="utf-8", newline="")


_Results = dict[int, tuple["Decision | None", "CreditSDKError | None", "str | None"]]


def _check_batch(
    client: CreditClient,
    rows: list[_Row],
    scenario: Scenario,
    ctx: QueryContext,
    as_of: date | None,
    args: argparse.Namespace,
) -> int:
    todo = [r for r in rows if r.error is None]
    progress = _Progress(len(todo), enabled=not args.no_progress)
    # Chunks of what the client runs at once: one progress step per round of batch requests,
    # and what Ctrl-C leaves behind is whole chunks, each logged before it was answered.
    step = client.batch_size * client.batch_concurrency
    results: _Results = {}
    failures = 0
    interrupted = False
    try:
        for start in range(0, len(todo), step):
            part = todo[start : start + step]
            grants = {r.subject: r.grant for r in part if r.grant is not None}
            answers = client.check_many(
                [r.subject for r in part],
                scenario,
                ctx,
                authorizations=grants or None,
                as_of=as_of,
            )
            for row, result in zip(part, answers, strict=True):
                results[row.line] = (result.decision, result.error, result.subject)
                failures += result.decision is None
            progress(min(start + step, len(todo)), len(todo), failures)
    except KeyboardInterrupt:
        interrupted = True
        progress.finish()
    return _report_batch(rows, todo, results, scenario, args, client.query_log, interrupted)


def _bulk_config(args: argparse.Namespace) -> tuple[ClientConfig, str]:
    """The configuration each worker process builds its client from, from the same sources as
    a one-process run (``--sandbox`` options or the ``CREDIT_SDK_*`` environment), and where
    the query log is. Worker processes share one durable log, so one is required."""
    from credit_sdk._bulk import ClientConfig
    from credit_sdk._client import _failure_policy_env, _pseudonym_key, _read_secret_env
    from credit_sdk._errors import ConfigurationError, PolicyError
    from credit_sdk.cli._common import _ConfigError, _sandbox_token

    if args.token and not args.sandbox:
        raise _UsageError("--token is only used with --sandbox (else set CREDIT_SDK_TOKEN)")
    target = (args.db or os.environ.get("CREDIT_SDK_AUDIT_DB", "")).strip()
    if not target or target in ("memory:", ":memory:"):
        raise _UsageError(
            "--processes: worker processes share one durable query log (Art. 25): pass --db "
            "PATH_OR_URL or set CREDIT_SDK_AUDIT_DB"
        )
    try:
        if args.sandbox:
            if not args.sandbox.startswith(("http://", "https://")):
                raise _UsageError("--sandbox: expected a URL such as http://127.0.0.1:8765")
            raw_key = _read_secret_env("CREDIT_SDK_PSEUDONYM_KEY", os.environ)
            key = _pseudonym_key(raw_key, "CREDIT_SDK_PSEUDONYM_KEY") if raw_key else None
            extra: dict[str, Any] = {"failure_policy": _failure_policy_env(os.environ)}
            if os.environ.get("CREDIT_SDK_LISTS_DIR"):
                extra["lists_dir"] = os.environ["CREDIT_SDK_LISTS_DIR"]
            config = ClientConfig.sandbox(
                args.sandbox,
                token=_sandbox_token(args),
                audit=target,
                pseudonym_key=key,
                # Per-row commits, as a one-process run of the command has them.
                audit_options={"group_commit": False},
                **extra,
            )
        else:
            environ = dict(os.environ)
            environ["CREDIT_SDK_AUDIT_DB"] = target
            config = ClientConfig.from_env(environ, audit_options={"group_commit": False})
    except (ConfigurationError, PolicyError) as err:
        raise _ConfigError(str(err)) from err
    return config, target


def _check_batch_processes(
    rows: list[_Row],
    scenario: Scenario,
    ctx: QueryContext,
    as_of: date | None,
    args: argparse.Namespace,
) -> int:
    """``--file`` with ``--processes N``: the subjects on N worker processes sharing one query
    log (:class:`credit_sdk.BulkScreening`); the same table, files and exit codes."""
    from credit_sdk._audit import open_query_log
    from credit_sdk._bulk import BulkScreening
    from credit_sdk._errors import BulkScreeningError

    config, target = _bulk_config(args)
    todo = [r for r in rows if r.error is None]
    progress = _Progress(len(todo), enabled=not args.no_progress)
    grants = {r.subject: r.grant for r in todo if r.grant is not None}
    results: _Results = {}
    interrupted = False
    stopped: BulkScreeningError | None = None
    # The log must exist before several processes open it at once (a typo in --db must not
    # become an empty log in each of them); it is then read for the verification sheet.
    with open_query_log(target, group_commit=False) as log:
        with BulkScreening(config, processes=args.processes or None, chunk_size=400) as bulk:
            try:
                for result in bulk.screen(
                    [r.subject for r in todo],
                    scenario,
                    ctx,
                    authorizations=grants or None,
                    as_of=as_of,
                    progress=progress,
                ):
                    row = todo[result.index]
                    results[row.line] = (result.decision, result.error, result.subject)
            except KeyboardInterrupt:
                interrupted = True
                progress.finish()
            except BulkScreeningError as err:
                # A worker was lost or the run's deadline passed: every row without a result
                # is reported as not checked (its query, if any, is counted incomplete).
                stopped = err
                progress.finish()
                for r in todo:
                    results.setdefault(r.line, (None, err, None))
        code = _report_batch(rows, todo, results, scenario, args, log, interrupted)
    if stopped is not None:
        _err(f"stopped: {stopped}; the rows without a result were not checked")
        return max(code, EXIT_INDETERMINATE)
    return code


def _report_batch(
    rows: list[_Row],
    todo: list[_Row],
    results: _Results,
    scenario: Scenario,
    args: argparse.Namespace,
    log: QueryLog | None,
    interrupted: bool,
) -> int:
    """The table (or JSON lines), the files and the exit code of a ``--file`` run."""
    lang = args.lang
    done_rows = [r for r in rows if r.line in results or r.error is not None]
    if interrupted:
        done_rows = [r for r in rows if r.line in results]
    code = EXIT_OK
    counts: dict[str, int] = {}
    table: list[tuple[str, ...]] = []
    decisions: list[Decision | None] = []
    notes: list[str | None] = []
    for row in done_rows:
        decision, error, masked = results.get(row.line, (None, None, None))
        decisions.append(decision)
        if decision is not None:
            notes.append(None)
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
                    _outcome_cell(outcome, lang),
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
        notes.append(why)
        if args.json:
            _out(json.dumps({"line": row.line, "subject": masked, "error": why}))
            continue
        not_checked = bilingual("未核查", "NOT CHECKED", lang)
        table.append((str(row.line), masked or "-", not_checked, "-", "-", "-", why))
    _write_files(args, decisions, notes, [str(r.line) for r in done_rows], log)
    if not args.json:
        _print_table(
            tuple(
                bilingual(zh, en, lang)
                for zh, en in (
                    ("行号", "LINE"),
                    ("信用主体", "SUBJECT"),
                    ("核查结论", "OUTCOME"),
                    ("限制", "R"),
                    ("激励", "I"),
                    ("复核", "H"),
                    ("措施/原因", "MEASURES / WHY"),
                )
            ),
            table,
        )
        summary = "，".join(
            f"{_outcome_cell(k, lang) if k != 'NOT CHECKED' else bilingual('未核查', k, lang)} {n}"
            for k, n in sorted(counts.items())
        )
        where = f"{bilingual(scenario.label_zh, scenario.value, lang)}"
        _out(
            "\n"
            + bilingual(
                f"共 {len(done_rows)} 个主体（{where}）：{summary}",
                f"{len(done_rows)} subjects at {scenario.value}: {summary}",
                lang,
            )
        )
        _out(
            bilingual(
                "限制：失信约束和惩戒措施数；激励：守信激励措施数；复核：待复核措施数（第五十三条）",
                "R restrictions, I incentives, H held for review (Art. 53); query ids: --json",
                lang,
            )
        )
    if interrupted:
        written = [f for f in (args.output, args.html) if f is not None]
        _err(
            f"interrupted: {len(results)} of {len(todo)} subjects were checked and logged"
            + (f"; written to {', '.join(written)}" if written else "")
        )
        return EXIT_INTERRUPTED
    return code


def _outcome_cell(outcome: str, lang: Lang) -> str:
    # The code stays in the cell: scripts and the exit code speak it.
    if lang == "en":
        return outcome
    zh = code_label("outcome", outcome, "zh")
    return zh if lang == "zh" else f"{zh} {outcome}"


def _describe_error(error: CreditSDKError | None) -> str:
    if error is None:
        return "not checked"
    if isinstance(error, InvalidIdentifier):
        return f"invalid identifier (rule: {error.rule})"
    return f"{type(error).__name__}: {_flag_names(str(error))}"


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
    _add_lang_option(output)
    output.add_argument(
        "--html",
        metavar="FILE",
        help="also write the printable verification sheet (联合奖惩核查单, A4 HTML) to FILE",
    )
    output.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="also write CSV for a desk (UTF-8 with BOM, Chinese headers, measure titles and "
        "legal basis) to FILE; after Ctrl-C it holds what was checked and logged",
    )
    check.add_argument(
        "--processes",
        type=_process_count,
        default=1,
        metavar="N",
        help="with --file: check on N worker processes sharing the query log (0: one per "
        "CPU; default 1, this process only); needs a durable log (--db or "
        "CREDIT_SDK_AUDIT_DB)",
    )
    output.add_argument(
        "--no-progress",
        action="store_true",
        help="with --file: no progress line (shown only on a terminal)",
    )
    _add_client_options(check)
    check.set_defaults(handler=_cmd_check)
