"""``credit-sdk lists {show,validate,hash,diff}``: the measure lists (Art. 39-48)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import (
    CatalogError,
)
from credit_sdk._labels import (
    KIND_LABELS,
    LIST_KIND_LABELS,
    PROVENANCE_LABELS,
    Lang,
    bilingual,
    label,
)
from credit_sdk.cli._common import (
    _RAW,
    EXIT_INVALID_LIST,
    EXIT_OK,
    _add_client_options,
    _add_lang_option,
    _china_today,
    _client,
    _epilog,
    _fmt,
    _out,
    _print_table,
    _seconds,
    _UsageError,
)

if TYPE_CHECKING:
    from credit_sdk._catalog import MeasureList


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


def _cmd_lists_show(args: argparse.Namespace) -> int:
    from credit_sdk._catalog import Catalog

    lang: Lang = args.lang
    today = _china_today()
    if args.paths and (args.sandbox or args.shipped):
        raise _UsageError("give list files, --shipped or --sandbox, not several sources")
    if args.paths:
        lists: tuple[MeasureList, ...] = Catalog.load(_list_files(args.paths)).lists
        source = bilingual(
            f"清单文件（{len(lists)} 个版本，已校验）",
            f"files ({len(lists)} editions, validated)",
            lang,
        )
    elif args.shipped or not (args.sandbox or os.environ.get("CREDIT_SDK_BASE_URL")):
        lists = Catalog.default().lists
        zh = "随 credit-sdk 提供的清单（离线默认；样例清单已标明）"
        en = "the lists shipped with credit-sdk (offline default; SAMPLE lists are labelled)"
        if not args.shipped:
            zh += "；平台清单须设置 CREDIT_SDK_BASE_URL 或 --sandbox URL"
            en += "; set CREDIT_SDK_BASE_URL or pass --sandbox URL for the platform's"
        source = bilingual(zh, en, lang)
    else:
        with _client(args) as client:
            status = client.wait_until_ready(timeout=args.timeout)
            lists = client.lists()
        synced = status.lists_synced_at
        source = bilingual(
            f"平台 {client.base_url}：{status.lists_source or '无'}清单"
            + (f"，同步于 {_fmt(synced)}" if synced else "")
            + ("［已过期：超过 max_list_staleness］" if status.lists_stale else ""),
            f"platform {client.base_url}: {status.lists_source or 'no'} lists"
            + (f", synced {_fmt(synced)}" if synced else "")
            + (" [STALE: past max_list_staleness]" if status.lists_stale else ""),
            lang,
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
        _show_list(lst, today, lang)
        return EXIT_OK
    summaries = [_summary(lst, today) for lst in sorted(lists, key=lambda m: m.ref)]
    if args.json:
        _out(json.dumps(summaries, ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(f"{bilingual('来源', 'source', lang)}: {source}")
    _print_table(
        [bilingual(zh, en, lang) for zh, en in _TABLE_HEADER],
        [
            (
                s["list_id"],
                s["version"],
                label(LIST_KIND_LABELS, s["kind"], lang),
                str(s["measures"]),
                _yes_no(s["in_force"], lang),
                label(PROVENANCE_LABELS, s["provenance"], lang),
                s["sha256"][:12],
            )
            for s in summaries
        ],
    )
    return EXIT_OK


_TABLE_HEADER = (
    ("清单", "LIST"),
    ("版本", "VERSION"),
    ("类别", "KIND"),
    ("措施数", "MEASURES"),
    ("今日有效", "IN FORCE"),
    ("来源性质", "PROVENANCE"),
    ("摘要", "SHA256"),
)


def _yes_no(value: bool, lang: Lang) -> str:
    return bilingual("是", "yes", lang) if value else bilingual("否", "no", lang)


def _show_list(lst: MeasureList, today: date, lang: Lang) -> None:
    """One edition and its measures, Chinese first: each measure with 措施, 设定依据, 实施主体
    and the Art. 27 scenarios it serves."""
    from credit_sdk._explain import format_range_item

    def field(zh: str, en: str, value: str, indent: str = "  ") -> None:
        _out(f"{indent}{bilingual(zh, en, lang)}: {value}")

    until = lst.effective_until or ""
    today_zh = "今日有效" if lst.in_force_at(today) else "今日未生效"
    today_en = "in force today" if lst.in_force_at(today) else "not in force today"
    _out(f"{lst.list_id} {lst.version}: {lst.title}")
    field("清单类别", "kind", label(LIST_KIND_LABELS, lst.kind.value, lang))
    field("适用地域", "jurisdiction", lst.jurisdiction)
    field("公布", "published", f"{lst.publication.reference} {lst.publication.date}")
    field(
        "有效期",
        "in force",
        f"{lst.effective_from}..{until} ({bilingual(today_zh, today_en, lang)})",
    )
    field(
        "来源性质",
        "provenance",
        f"{label(PROVENANCE_LABELS, lst.provenance.status, lang)} [{lst.provenance.status}]: "
        f"{lst.provenance.statement}",
    )
    _out(f"  sha256 {lst.sha256}")
    for m in lst.measures:
        _out("")
        flag = f" ({bilingual('自愿实施', 'voluntary', lang)}, Art. 48)" if m.voluntary else ""
        kind = label(KIND_LABELS, m.kind.value, lang)
        _out(f"  {m.measure_id}  {kind}{flag}  {format_range_item(m.range_item)}")
        field("措施", "measure", m.title, "    ")
        field("设定依据", "legal basis", "；".join(m.legal_basis), "    ")
        field("实施主体", "implementing body", m.implementing_body.name, "    ")
        field("适用场景", "scenarios", ", ".join(_scenario(s, lang) for s in m.scenarios), "    ")


def _scenario(value: str, lang: Lang) -> str:
    """``招标投标 bidding``; a scenario this SDK does not know shows as itself."""
    from credit_sdk._scenarios import Scenario

    try:
        s = Scenario(value)
    except ValueError:
        return value
    return bilingual(s.label_zh, s.value, lang)


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
    for field, a, b in (
        ("effective_from", old.effective_from, new.effective_from),
        ("effective_until", old.effective_until, new.effective_until),
        ("publication", old.publication.reference, new.publication.reference),
    ):
        if a != b:
            _out(f"  {field}: {a} -> {b}")
    return EXIT_OK


def _cmd_lists_hash(args: argparse.Namespace) -> int:
    """The sha256 a list file declares (its canonical content, without ``sha256``), and with
    ``--write`` the file sealed with it, once the sealed list validates."""
    from credit_sdk._catalog import MeasureList, content_sha256

    report: list[dict[str, Any]] = []
    for path in _list_files(args.paths):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise CatalogError(
                f"{path.name}: not a readable JSON measure list ({type(err).__name__})"
            ) from None
        if not isinstance(raw, dict):
            raise CatalogError(f"{path.name}: a measure list is a JSON object")
        digest = content_sha256(raw)
        declared = raw.get("sha256")
        state = "none" if declared is None else ("matches" if declared == digest else "differs")
        if args.write and declared != digest:
            sealed = {**raw, "sha256": digest}
            MeasureList.from_json(sealed, source=path.name)  # refuses a list that breaks a rule
            text = json.dumps(sealed, ensure_ascii=False, indent=2) + "\n"
            path.write_text(text, encoding="utf-8")
            state = "written"
        report.append({"path": str(path), "sha256": digest, "declared": state})
    if args.json:
        _out(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    for r in report:
        _out(f"{r['sha256']}  {r['path']}  (declared sha256: {r['declared']})")
    return EXIT_OK


def add_lists_commands(groups: Any) -> None:
    """``credit-sdk lists {show,validate,hash,diff}`` (Art. 39–48)."""
    lists = groups.add_parser(
        "lists",
        help="measure lists: show those in use, validate and seal files, diff editions "
        "(Art. 39-48)",
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
    _add_lang_option(show)
    show.add_argument(
        "--timeout",
        type=_seconds,
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

    seal = commands.add_parser(
        "hash",
        help="the sha256 of list files (canonical content); --write seals them with it",
        description="Compute the sha256 a measure-list file declares: the digest of its "
        "canonical JSON without the sha256 field (keys sorted, compact separators, UTF-8). "
        "With --write, store it in the file (after checking that the sealed list validates; a "
        "list that breaks a rule exits 8 and the file is left as it was).",
        epilog=_epilog(
            """\
  credit-sdk lists hash hlj-supplementary-2026.json
  credit-sdk lists hash lists/ --write          # before publishing: seal every edition"""
        ),
        formatter_class=_RAW,
    )
    seal.add_argument("paths", nargs="+", metavar="PATH", help="list files or directories")
    seal.add_argument("--write", action="store_true", help="store the digest in each file")
    seal.add_argument("--json", action="store_true", help="print JSON")
    seal.set_defaults(handler=_cmd_lists_hash)

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
