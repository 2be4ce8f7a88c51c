"""``credit-sdk feedback {flush,requeue}``: Art. 46 feedback."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from credit_sdk.cli._common import (
    _DB_HELP,
    _RAW,
    EXIT_DEAD_LETTERS,
    EXIT_OK,
    EXIT_PLATFORM,
    _add_client_options,
    _client,
    _epilog,
    _json_default,
    _open_log,
    _out,
    _outbox_by_kind,
    _seconds,
    _UsageError,
)

if TYPE_CHECKING:
    pass


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
        if len(stats.by_kind) > 1:
            _out("\n".join(_outbox_by_kind(stats)))
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
        if len(stats.by_kind) > 1:
            _out("\n".join(_outbox_by_kind(stats)))
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
        type=_seconds,
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
