"""``credit-sdk push``, ``correct`` and ``update-basis``: the organ's own duties (Art. 22, 52).

Each validates before any I/O, queues the item in the query log's durable outbox and prints its
receipt: the due date in working days (provisional when a year's holiday arrangement is
unknown) and whether it is already late (a late item is queued and delivered anyway).
``--flush S`` delivers it at once, waiting up to S seconds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from credit_sdk.cli._common import (
    _DB_HELP,
    _RAW,
    EXIT_OK,
    EXIT_PLATFORM,
    _add_client_options,
    _client,
    _epilog,
    _out,
    _parse_date,
    _seconds,
)

_KINDS = {"push": "推送 push", "correction": "更正 correction", "basis_update": "更新 basis update"}


def _document(args: argparse.Namespace, *, required: bool) -> Any:
    from credit_sdk import BasisDocument

    fields = (args.document_number, args.document_issuer, args.document_issued_on)
    if not any(fields) and not required:
        return None
    if not all(fields):
        from credit_sdk.cli._common import _UsageError

        raise _UsageError(
            "the effective legal document needs --document-number, --document-issuer and "
            "--document-issued-on"
        )
    issued = _parse_date(args.document_issued_on, name="--document-issued-on")
    effective = (
        _parse_date(args.document_effective_on, name="--document-effective-on")
        if args.document_effective_on
        else None
    )
    return BasisDocument(
        kind=args.document_kind,
        number=args.document_number,
        issuer=args.document_issuer,
        issued_on=issued,
        effective=True,
        effective_on=effective,
    )


def _duty(args: argparse.Namespace) -> Any:
    from credit_sdk import BasisUpdateRequest, Correction, InformationPush

    if args.duty == "push":
        return InformationPush(
            record_id=args.record_id,
            category=args.category,
            summary=args.summary,
            produced_on=_parse_date(args.produced_on, name="--produced-on"),
            document=_document(args, required=True),
        )
    if args.duty == "correction":
        return Correction(
            record_id=args.record_id,
            category=args.category,
            reason=args.reason,
            discovered_on=_parse_date(args.discovered_on, name="--discovered-on"),
            corrected=args.corrected,
            document=_document(args, required=False),
        )
    return BasisUpdateRequest(
        record_id=args.record_id,
        category=args.category,
        change=args.change,
        changed_on=_parse_date(args.changed_on, name="--changed-on"),
        document=_document(args, required=True),
    )


def _cmd_duty(args: argparse.Namespace) -> int:
    from credit_sdk import InformationCatalogue, parse_identifier

    # Everything is validated before any client, query log or platform is touched.
    parse_identifier(args.subject)
    duty = _duty(args)
    InformationCatalogue.default().require(args.category.strip())
    with _client(args) as client:
        if args.duty == "push":
            receipt = client.push_information(args.subject, duty, organ=args.organ)
        elif args.duty == "correction":
            receipt = client.correct_information(args.subject, duty, organ=args.organ)
        else:
            receipt = client.request_basis_update(args.subject, duty, organ=args.organ)
        stats = client.flush(timeout=args.flush) if args.flush is not None else None
    kind = receipt.kind.value
    pending = stats.by_kind[kind].pending if stats is not None and kind in stats.by_kind else None
    if args.json:
        _out(
            json.dumps(
                {
                    "article": receipt.article,
                    "kind": kind,
                    "record_id": receipt.record_id,
                    "subject": receipt.subject,
                    "idempotency_key": receipt.idempotency_key,
                    "starts_on": receipt.starts_on.isoformat(),
                    "due_on": receipt.due_on.isoformat(),
                    "provisional": receipt.due.provisional,
                    "estimated_years": list(receipt.due.estimated_years),
                    "late": receipt.late,
                    "delivered": None if pending is None else pending == 0,
                },
                ensure_ascii=False,
            )
        )
    else:
        _out(
            f"已排队 Queued      {receipt.article} {_KINDS[kind]}  {receipt.record_id}  "
            f"主体 subject {receipt.subject}"
        )
        due = f"应于 Due by      {receipt.due}"
        if receipt.due.provisional:
            due += "  (暂估 PROVISIONAL: install the year's holiday arrangement)"
        _out(due)
        if receipt.late:
            _out("已逾期 LATE       queued after its due date; it is delivered all the same")
        if pending is not None:
            _out(
                "已送达 Delivered   to the platform"
                if pending == 0
                else "未送达 Pending    the platform did not take it yet; the outbox keeps it "
                "(credit-sdk feedback flush delivers it later)"
            )
    return EXIT_PLATFORM if pending else EXIT_OK


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subject", help="the subject's resident ID number or USCC")
    parser.add_argument("--record-id", required=True, help="the organ's own id of the information")
    parser.add_argument(
        "--category",
        required=True,
        help="its category in the public credit information catalogue (Art. 19), e.g. food_safety",
    )
    parser.add_argument("--organ", required=True, help="the organ's code, e.g. 230100-SCJGJ")
    parser.add_argument(
        "--flush",
        type=_seconds,
        metavar="S",
        help="deliver now, waiting up to S seconds (default: leave it to the background sender)",
    )
    parser.add_argument("--json", action="store_true", help="print the receipt as JSON")


def _document_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group(
        "effective legal document (生效法律文书)" + ("" if required else ", optional")
    )
    group.add_argument(
        "--document-kind",
        default="administrative_penalty_decision",
        help="judgment, administrative_penalty_decision, administrative_decision, ... "
        "(default administrative_penalty_decision)",
    )
    group.add_argument("--document-number", metavar="文号", help="e.g. 哈市监罚〔2026〕118号")
    group.add_argument("--document-issuer", metavar="ISSUER", help="the unit that issued it")
    group.add_argument("--document-issued-on", metavar="YYYY-MM-DD")
    group.add_argument(
        "--document-effective-on", metavar="YYYY-MM-DD", help="default: the issue date"
    )


def add_duty_commands(groups: Any) -> None:
    """``credit-sdk push``, ``correct``, ``update-basis`` (Art. 22, 52 ¶1, 52 ¶3)."""
    push = groups.add_parser(
        "push",
        help="Art. 22: push information the organ produced, with its legal document (5 days)",
        description="Queue an Art. 22 push (信息推送): public credit information the organ "
        "produced or obtained, with its effective legal document, due at the platform within "
        "five working days of --produced-on. Exit 0 when queued (and delivered, with --flush), "
        "7 when --flush could not deliver it (it stays queued), 2 for bad input, 8 when the "
        "category is not in the public credit information catalogue.",
        epilog=_epilog(
            """\
  credit-sdk push 91230100MA1C2X3Y48 --record-id PEN-2026-118 --category food_safety \\
      --summary "警告并罚款" --produced-on 2026-11-30 --organ 230100-SCJGJ \\
      --document-number "哈市监罚〔2026〕118号" --document-issuer 哈尔滨市市场监督管理局 \\
      --document-issued-on 2026-11-30 --flush 30
  credit-sdk push ... --sandbox http://127.0.0.1:8765 --db .demo/query-log.db --json"""
        ),
        formatter_class=_RAW,
    )
    _common_arguments(push)
    push.add_argument("--summary", required=True, help="what the information says")
    push.add_argument("--produced-on", required=True, metavar="YYYY-MM-DD")
    _document_arguments(push, required=True)
    _add_client_options(push, db_help=_DB_HELP + " (it holds the outbox)")
    push.set_defaults(handler=_cmd_duty, duty="push")

    correct = groups.add_parser(
        "correct",
        help="Art. 52 ¶1: correct information found wrong, invalid or changed (3 days)",
        description="Queue an Art. 52 ¶1 correction (更正) of information found wrong, "
        "invalid or changed, due within three working days of --discovered-on. Exit codes as "
        "for push.",
        epilog=_epilog(
            """\
  credit-sdk correct 91230100MA1C2X3Y48 --record-id PEN-2026-118 --category food_safety \\
      --reason wrong --discovered-on 2026-12-02 --corrected "罚款金额应为一万元" \\
      --organ 230100-SCJGJ --flush 30"""
        ),
        formatter_class=_RAW,
    )
    _common_arguments(correct)
    correct.add_argument(
        "--reason",
        required=True,
        choices=["wrong", "invalid", "changed"],
        help="错误 wrong, 失效 invalid, 发生变更 changed",
    )
    correct.add_argument("--discovered-on", required=True, metavar="YYYY-MM-DD")
    correct.add_argument("--corrected", required=True, help="what the information says now")
    _document_arguments(correct, required=False)
    _add_client_options(correct, db_help=_DB_HELP + " (it holds the outbox)")
    correct.set_defaults(handler=_cmd_duty, duty="correction")

    update = groups.add_parser(
        "update-basis",
        help="Art. 52 ¶3: the basis of a finding was revoked or changed (2 days)",
        description="Queue an Art. 52 ¶3 request to revoke or change information whose basis "
        "was revoked, confirmed illegal or invalid, or changed, due within two working days of "
        "--changed-on, with the document that changed it. Exit codes as for push.",
        epilog=_epilog(
            """\
  credit-sdk update-basis 91230100MA1C2X3Y48 --record-id PEN-2026-118 --category food_safety \\
      --change revoked --changed-on 2026-12-03 --organ 230100-SCJGJ --document-kind judgment \\
      --document-number "（2026）黑01行终52号" --document-issuer 哈尔滨市中级人民法院 \\
      --document-issued-on 2026-12-03"""
        ),
        formatter_class=_RAW,
    )
    _common_arguments(update)
    update.add_argument(
        "--change",
        required=True,
        choices=["revoked", "confirmed_illegal", "confirmed_invalid", "changed"],
        help="撤销 revoked, 确认违法 confirmed_illegal, 确认无效 confirmed_invalid, 变更 changed",
    )
    update.add_argument("--changed-on", required=True, metavar="YYYY-MM-DD")
    _document_arguments(update, required=True)
    _add_client_options(update, db_help=_DB_HELP + " (it holds the outbox)")
    update.set_defaults(handler=_cmd_duty, duty="basis_update")
