"""Shared by every command group: exit codes, the parser classes, output helpers, the options
that build a client and the client itself."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import (
    ConfigurationError,
    PolicyError,
)

if TYPE_CHECKING:
    from credit_sdk._client import CreditClient


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
      client (missing URL, credential, query log or key; the message names the variable);
      sandbox: cannot listen, or its extra is not installed (pip install 'credit-sdk[sandbox]')
   7  the platform could not be reached or refused: feedback still pending, no lists;
      push, correct, update-basis --flush: queued but not delivered yet (kept, sent later);
      check only with CREDIT_SDK_RAISE_ON_UNAVAILABLE=true (else it answers 12)
   8  lists: a measure-list file breaks a rule (the message names list, measure, rule);
      push, correct, update-basis: the category is not in the public credit information
      catalogue (Art. 19 ¶1)
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


def _quiet_usage(message: str) -> str:
    """argparse quotes the offending argument back ("invalid choice: '1101...'"): an ID number
    or a token typed in the wrong place must not be echoed, so only plain words are kept."""
    from credit_sdk._errors import vocabulary_word

    message = re.sub(
        r"unrecognized arguments: .*", "unrecognized arguments (not shown)", message, flags=re.S
    )
    return re.sub(
        r"'([^']*)'",
        lambda m: m.group(0) if vocabulary_word(m.group(1).lstrip("-")) else "'(not shown)'",
        message,
    )


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so that ``main`` returns an exit code to its caller."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        raise _UsageError(f"{self.prog}: {_quiet_usage(message)}")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"credit-sdk: {text}\n")


def _epilog(examples: str) -> str:
    return f"examples:\n{examples.rstrip()}\n\n{EXIT_CODES}"


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


def _fmt(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


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
    from credit_sdk._client import (
        CreditClient,
        _env_kwargs,
        _failure_policy_env,
        _pseudonym_key,
        _read_secret_env,
    )

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
            key = _pseudonym_key(raw_key, "CREDIT_SDK_PSEUDONYM_KEY") if raw_key else None
            # Per-row commits: a one-shot command has no concurrent checks to group.
            log = open_query_log(target, create=create_log, group_commit=False) if target else None
            extra: dict[str, Any] = {}
            if os.environ.get("CREDIT_SDK_LISTS_DIR"):
                extra["lists_dir"] = os.environ["CREDIT_SDK_LISTS_DIR"]
            # The failure policy comes from the environment as for a production client:
            # CREDIT_SDK_RAISE_ON_UNAVAILABLE=true makes a platform failure exit 7, not 12.
            extra["failure_policy"] = _failure_policy_env(os.environ)
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


def _seconds(text: str) -> float:
    """An argparse type for a wait in seconds: finite, from 0 to one year (``nan`` or ``inf``
    would make a bounded wait endless)."""
    from credit_sdk._deadline import MAX_WAIT

    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds") from None
    if not 0 <= seconds <= MAX_WAIT:  # also refuses nan
        raise argparse.ArgumentTypeError("expected a finite number of seconds from 0 to one year")
    return seconds


def _parse_date(text: str, *, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _UsageError(f"{name}: expected a date, YYYY-MM-DD") from None


def _china_today() -> date:
    # Lists take effect on Chinese calendar days, whatever the host's time zone.
    return (datetime.now(UTC) + timedelta(hours=8)).date()


class _Progress:
    """Progress on stderr, rewritten in place, with rate and time left, only on a terminal:
    piped or redirected, the command stays quiet (its output is the table, JSON or files).
    Called as ``progress(done, total, failures)``, the callback the bulk APIs take; ``done``
    and ``failures`` name what is counted, Chinese first.

    ``已核查 checked 400/1000 (40%)  85.3/s  ETA 0:00:07  失败 failures 2``
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool,
        clock: Any = None,
        done: str = "已核查 checked",
        failures: str = "失败 failures",
    ) -> None:
        import time

        self.total = total
        self._done_word = done
        self._failures_word = failures
        self.tty = enabled and sys.stderr.isatty()
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self._shown = False

    def __call__(self, done: int, total: int, failures: int) -> None:
        if not self.tty:
            return
        elapsed = max(self._clock() - self._start, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        eta = f"{int(left) // 3600}:{int(left) % 3600 // 60:02d}:{int(left) % 60:02d}"
        pct = 100 * done // total if total else 100
        sys.stderr.write(
            f"\r{self._done_word} {done}/{total} ({pct}%)  {rate:.1f}/s  ETA {eta}  "
            f"{self._failures_word} {failures}\x1b[K"
        )
        self._shown = True
        if done >= total:
            self.finish()
        sys.stderr.flush()

    def finish(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._shown = False


def _add_lang_option(parser: Any) -> None:
    """``--lang`` (``zh-en``, ``zh``, ``en``): what people read; JSON never changes with it."""
    parser.add_argument(
        "--lang",
        choices=("zh-en", "zh", "en"),
        default="zh-en",
        help="what people read: Chinese first then English (default), Chinese or English "
        "only; JSON never changes",
    )


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([_width(h), *(_width(r[i]) for r in rows)]) for i, h in enumerate(header)]
    for line in (header, *rows):
        cells = [c + " " * (w - _width(c)) for c, w in zip(line, widths, strict=True)]
        _out("  ".join(cells).rstrip())


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _outbox_by_kind(stats: Any) -> list[str]:
    """One line per kind of outbox item (按类型): feedback, push, correction ..."""
    return [
        f"  {kind:<16} pending {k.pending} (in flight {k.in_flight}), delivered {k.delivered}, "
        f"dead letters {k.dead}" + (f", overdue {k.overdue}" if k.overdue else "")
        for kind, k in stats.by_kind.items()
    ]
