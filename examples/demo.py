"""`make demo`: the SDK end to end, as the host systems it exists for would use it.

It starts the sandbox platform on a free loopback port (synthetic SAMPLE subjects, not a
production platform), keeps the query log in a SQLite file, and then, through
:class:`~credit_sdk.CreditClient`:

1. checks applicants at a licensing window (Art. 27(1), 28, 40(1)),
2. screens the bidders of a tender in one batch (Art. 27(2), 42(3)),
3. checks candidates in a hiring and a qualification review, with their authorisations
   (Art. 25, 27(5)-(6), 45, 56),
4. shows that a platform outage answers INDETERMINATE, never CLEAR (fail closed),
5. runs the integration examples (``examples/*/``: FastAPI, Flask, decorators, a bidding
   platform) against the same sandbox, as far as they are present,
6. reports applied and not-applied measures back (Art. 46) and delivers the outbox,
7. verifies the query log's hash chain (Art. 25), as ``credit-sdk audit verify`` does.

Every decision is printed as a case officer reads it: the outcome, each measure with its legal
basis (设定依据) and implementing body (实施主体), what triggered it, and what was left out.
The exit status is 0 only when every step gave what was expected.

    python examples/demo.py [--keep DIR] [--skip-examples]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import io
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python examples/demo.py` puts only examples/ on the path
    sys.path.insert(0, str(ROOT))

from credit_sdk import (  # noqa: E402
    Authorization,
    BasisDocument,
    CheckpointPolicy,
    CheckpointSigner,
    Correction,
    CreditClient,
    Decision,
    FileCheckpointSink,
    InformationPush,
    QueryContext,
    ReportArchive,
    Scenario,
    SignedCheckpoint,
    code_label,
    open_query_log,
    replay,
)
from credit_sdk.cli import main as credit_sdk_cli  # noqa: E402
from credit_sdk.sandbox import SandboxServer, seeded_subject  # noqa: E402

#: Decisions are made as on this date: the sample records are dated for it, so the demo shows
#: the same outcomes whenever it runs (the platform's own clock is not involved).
AS_OF = dt.date(2026, 11, 29)

#: The integration examples, each a package under examples/ exposing ``run_demo(sandbox)``.
EXAMPLES: list[tuple[str, str]] = [
    ("permit_approval", "Permit approval system (FastAPI)"),
    ("bidding_platform", "Bidding platform: screening a tender"),
    ("personnel_review", "Personnel review tool (Flask)"),
    ("decorators", "Plain functions with decorators"),
]

#: Measures the case officers of this script decide not to apply, with the reason that goes back
#: to the platform (Art. 46 asks for both: what was applied and what was not).
NOT_APPLIED = {
    "HLJ-SUP-42.2-01": "the application is for another licence than the one obtained by fraud",
}

_OUTCOME_ZH = {
    "CLEAR": "未发现需适用的措施",
    "INCENTIVES": "适用守信激励措施",
    "RESTRICTED": "适用失信约束/惩戒措施",
    "REVIEW": "存在异议信息，需人工复核",
    "INDETERMINATE": "无法取得信用信息，不得视为无失信",
}


@dataclass
class Tally:
    """What was expected and what happened, for the summary and the exit status."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def expect(self, label: str, ok: bool, detail: str = "") -> str:
        (self.passed if ok else self.failed).append(label + (f" ({detail})" if detail else ""))
        return "ok" if ok else f"UNEXPECTED{': ' + detail if detail else ''}"


def section(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}", flush=True)


def officer_view(decision: Decision, *, indent: str = "  ") -> str:
    """A decision as a case officer reads it: shorter than ``explain()``, the same substance."""
    outcome = decision.outcome.value
    lines = [
        f"{indent}核查结论 Outcome  {code_label('outcome', outcome)} [{outcome}]"
        f" — {_OUTCOME_ZH[outcome]}"
    ]
    groups = (
        ("失信约束/惩戒 Restrictions", "x", decision.restrictions),
        ("守信激励 Incentives", "+", decision.incentives),
        ("待复核 Held for review (异议处理中, Art. 53)", "?", decision.held_for_review),
    )
    for title, mark, measures in groups:
        if not measures:
            continue
        lines.append(f"{indent}{title}:")
        for m in measures:
            item = m.range_item.split(".")
            article = f"Art. {item[0]}({item[1]})" + (item[2] if len(item) > 2 else "")
            score = f", 评审分值 {m.score_adjustment:+g}" if m.score_adjustment is not None else ""
            lines.append(f"{indent}  {mark} {m.title}  [{m.measure_id}, {article}{score}]")
            lines.append(f"{indent}      设定依据  {'；'.join(m.legal_basis)}")
            lines.append(f"{indent}      实施主体  {m.implementing_body}")
            for t in m.triggered_by:
                lines.append(f"{indent}      触发信息  {t.describe()}")
    c = decision.commitment
    lines.append(
        f"{indent}信用承诺制 Commitment route (Art. 28): "
        f"{'可以适用 allowed' if c.eligible else '不得适用 not allowed'} — {c.reason.value}"
    )
    if decision.exclusions:
        reasons: dict[str, int] = {}
        for e in decision.exclusions:
            reasons[e.reason.value] = reasons.get(e.reason.value, 0) + 1
        left = "，".join(
            f"{code_label('reason', r, 'zh')}[{r}]" + (f" ×{n}" if n > 1 else "")
            for r, n in reasons.items()
        )
        lines.append(f"{indent}未适用及原因 Left out, with reasons: {left}")
    advisories: dict[tuple[str, str], list[str]] = {}
    for a in decision.advisories:
        advisories.setdefault((a.code.value, a.message), []).extend(
            [a.item_id] if a.item_id else []
        )
    for (code, message), items in advisories.items():
        lines.append(
            f"{indent}提示 {code_label('reason', code, 'zh')}[{code}]: {message}"
            + (f" ({', '.join(items)})" if items else "")
        )
    return "\n".join(lines)


def subject(state: str) -> str:
    """The raw (synthetic) identifier of a seeded sandbox subject: what a host system holds."""
    return seeded_subject(state).identifier.reveal()


def grant(grant_id: str, scenario: Scenario, purpose: str, person: str) -> Authorization:
    """The candidate's written authorisation (Art. 25, 56): scoped, purposeful, time-limited."""
    today = dt.datetime.now(dt.UTC).date()
    return Authorization(
        subject=person,  # the grant binds the person who signed it, and no one else
        grant_id=grant_id,
        scope=(scenario.value,),
        purpose=purpose,
        granted_on=today - dt.timedelta(days=7),
        expires_on=today + dt.timedelta(days=90),
    )


# -- the scripted checks --------------------------------------------------------------------------


Handled = list[tuple[Decision, str]]  # each decision with the organ that asked


def permit_window(client: CreditClient, tally: Tally) -> Handled:
    section("1. Licensing window 行政许可 (Art. 27(1), 28, 40(1)), with client.check()")
    ctx = QueryContext(
        organ="230100-SCJGJ",
        operator="officer-1024",
        matter_code="LIC-FOOD",
        purpose="food business licence applications, window 3",
    )
    cases = [
        ("red_list", "a red-list applicant: green channel", "INCENTIVES"),
        ("false_commitment", "broke an earlier credit commitment", "RESTRICTED"),
        ("general_dishonesty", "submitted false materials last year", "RESTRICTED"),
        ("minor_penalty", "a simple-procedure fine only (Art. 19)", "CLEAR"),
    ]
    decisions: Handled = []
    for state, story, expected in cases:
        decision = client.check(subject(state), Scenario.ADMIN_LICENSING, ctx, as_of=AS_OF)
        verdict = tally.expect(f"permit/{state} {expected}", decision.outcome.value == expected)
        print(f"\n- Applicant {decision.subject}: {story}   [{verdict}]")
        print(officer_view(decision))
        decisions.append((decision, ctx.organ))
    return decisions


def tender(client: CreditClient, tally: Tally, *, details: bool) -> Handled:
    section("2. Tender 招标投标 (Art. 27(2), 40(2), 42(3)), with client.check_many()")
    ctx = QueryContext(
        organ="230100-GGZY",
        operator="evaluator-7",
        matter_code="BID-2026-017",
        purpose="qualification screening of the bidders of tender HLJ-2026-017",
    )
    bidders = [
        ("severe_list", "RESTRICTED"),
        ("general_dishonesty", "RESTRICTED"),
        ("red_list", "INCENTIVES"),
        ("clean", "CLEAR"),
        ("disputed", "REVIEW"),
        ("expired", "CLEAR"),
        ("repaired", "CLEAR"),
    ]
    results = client.check_many(
        [subject(state) for state, _ in bidders], Scenario.BIDDING, ctx, as_of=AS_OF
    )
    legend = "MEASURES (x restriction, + incentive, ? held)"
    print(f"\n  {'BIDDER':<20}{'OUTCOME':<13}{'SCORE':<7}{legend}")
    decisions: Handled = []
    for (state, expected), result in zip(bidders, results, strict=True):
        decision = result.unwrap()
        decisions.append((decision, ctx.organ))
        # Bid-evaluation points (Art. 40(2) bonus, Art. 42(3) deduction) from the measures.
        score = sum(m.score_adjustment or 0 for m in decision.measures)
        marks = [f"x {m.measure_id}" for m in decision.restrictions]
        marks += [f"+ {m.measure_id}" for m in decision.incentives]
        marks += [f"? {m.measure_id}" for m in decision.held_for_review]
        if not marks:
            reasons = sorted({e.reason.value for e in decision.exclusions})
            marks = [f"(left out: {', '.join(reasons)})" if reasons else "-"]
        verdict = tally.expect(f"bidding/{state} {expected}", decision.outcome.value == expected)
        flag = "" if verdict == "ok" else f"  [{verdict}]"
        print(
            f"  {decision.subject:<20}{decision.outcome.value:<13}"
            f"{f'{score:+g}' if score else '':<7}{', '.join(marks)}{flag}"
        )
    if not details:
        print("\n  (each bidder's file, with the legal basis of every measure: the bidding")
        print("  platform example in section 5)")
    for decision, _ in decisions if details else ():
        if decision.outcome.value in ("RESTRICTED", "REVIEW"):
            print(f"\n- Bidder {decision.subject}")
            print(officer_view(decision))
    return decisions


def personnel(client: CreditClient, tally: Tally) -> Handled:
    section("3. Personnel review (Art. 27(5)-(6), 42(6)-(7), 45), with an Authorization (Art. 56)")
    hiring = QueryContext(
        organ="230100-RSJ",
        operator="hr-officer-3",
        matter_code="HIRE-2026-05",
        purpose="2026 public institution recruitment, post 05",
    )
    review = QueryContext(
        organ="230100-GZW",
        operator="hr-officer-9",
        matter_code="QUAL-2026-12",
        purpose="qualification review of a proposed SOE director",
    )
    cases = [
        (
            "judgment_defaulter",
            Scenario.CIVIL_SERVICE_HIRING,
            hiring,
            "a court judgment defaulter (失信被执行人) applies for a post",
        ),
        (
            "linked_person",
            Scenario.QUALIFICATION_REVIEW,
            review,
            "legal representative of a severe-list company (Art. 45)",
        ),
    ]
    decisions: Handled = []
    for state, scenario, ctx, story in cases:
        authorization = grant(f"AUTH-{ctx.matter_code}", scenario, ctx.purpose, subject(state))
        decision = client.check(
            subject(state), scenario, ctx, authorization=authorization, as_of=AS_OF
        )
        verdict = tally.expect(f"personnel/{state} RESTRICTED", decision.outcome == "RESTRICTED")
        print(f"\n- Candidate {decision.subject}: {story}   [{verdict}]")
        print(f"  授权 Authorisation {authorization.grant_id}, until {authorization.expires_on}")
        print(officer_view(decision))
        decisions.append((decision, ctx.organ))
    return decisions


def outage(client: CreditClient, sandbox: SandboxServer, tally: Tally) -> None:
    section("4. The platform is down: fail closed")
    ctx = QueryContext(
        organ="230100-SCJGJ",
        operator="officer-1024",
        matter_code="LIC-FOOD",
        purpose="food business licence applications, window 3",
    )
    # Every attempt of the next check (the first and its retries) gets a 503.
    sandbox.admin.inject_fault("reports:query", status=503, times=10)
    try:
        started = time.perf_counter()
        decision = client.check(subject("minor_corrected"), Scenario.ADMIN_LICENSING, ctx)
        took = time.perf_counter() - started
    finally:
        sandbox.admin.clear_faults()
    verdict = tally.expect("outage INDETERMINATE", decision.outcome == "INDETERMINATE")
    print(f"\n- Applicant {decision.subject}, platform answering 503 (retried, {took:.1f} s)"
          f"   [{verdict}]")  # fmt: skip
    print(officer_view(decision))


# -- the integration examples ---------------------------------------------------------------------


def find_run_demo(name: str) -> Callable[[SandboxServer], str] | None:
    """``run_demo`` of ``examples/<name>``, or ``None`` while that example does not exist."""
    if not (ROOT / "examples" / name).exists():
        return None
    for module_name in (f"examples.{name}", *(f"examples.{name}.{m}" for m in ("app", "main"))):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue
            raise
        run_demo = getattr(module, "run_demo", None)
        if callable(run_demo):
            return run_demo  # type: ignore[no-any-return]
    raise LookupError(f"examples/{name} has no run_demo(sandbox)")


def examples(sandbox: SandboxServer, tally: Tally) -> None:
    section("5. The integration examples, against the same sandbox")
    for name, title in EXAMPLES:
        print(f"\n--- {title}  (examples/{name}) ---")
        try:
            run_demo = find_run_demo(name)
            if run_demo is None:
                print("  (not in this tree yet)")
                continue
            started = time.perf_counter()
            output = run_demo(sandbox)
            took = time.perf_counter() - started
        except Exception as err:  # an example failing must fail the demo, not stop it
            tally.expect(f"example {name}", False, f"{type(err).__name__}: {err}")
            print(f"  FAILED: {type(err).__name__}: {err}")
            continue
        finally:
            sandbox.admin.clear_faults()
        for line in output.rstrip().splitlines():
            print(f"  {line}")
        tally.expect(f"example {name}", True)
        print(f"  [ok, {took:.1f} s]")


# -- feedback and the query log ------------------------------------------------------------------


def feedback(client: CreditClient, sandbox: SandboxServer, handled: Handled, tally: Tally) -> None:
    section("6. Result feedback 结果反馈 (Art. 46): what was applied, what was not and why")
    before = len(sandbox.admin.feedback())
    queued = 0
    acted_on = [(d, organ) for d, organ in handled if d.restrictions or d.held_for_review]
    for n, (decision, organ) in enumerate(acted_on, 1):
        applied = [m.measure_id for m in decision.restrictions]
        not_applied = [
            (m.measure_id, "objection pending: decided after the review")
            for m in decision.held_for_review
        ]
        for measure_id, reason in NOT_APPLIED.items():
            if measure_id in applied:
                applied.remove(measure_id)
                not_applied.append((measure_id, reason))
        items = client.feedback(
            decision,
            applied=applied,
            not_applied=not_applied,
            case_id=f"CASE-2026-{n:03d}",
            implementing_department=organ,
        )
        queued += len(items)
        text = f"  {decision.subject:<20} applied {', '.join(applied) or '-'}"
        if not_applied:
            text += f"; not applied {', '.join(m for m, _ in not_applied)}"
        print(text)
    stats = client.flush(timeout=10)
    received = len(sandbox.admin.feedback()) - before
    verdict = tally.expect(
        "feedback delivered", stats.pending == 0 and stats.dead == 0 and received == queued
    )
    print(
        f"\n  outbox: {queued} items queued; delivered {stats.delivered}, pending {stats.pending}, "
        f"dead letters {stats.dead}; the platform received {received}   [{verdict}]"
    )


def duties(client: CreditClient, sandbox: SandboxServer, tally: Tally) -> None:
    section("6b. The organ's own duties 信息推送与更正 (Art. 22, 52): pushed, corrected, once")
    company = subject("severe_list")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # the day in China
    decision = BasisDocument(
        kind="administrative_penalty_decision",
        number="哈市监罚〔2026〕SAMPLE-118号",
        issuer="哈尔滨市市场监督管理局 (SAMPLE)",
        issued_on=today,
        effective=True,
    )
    push = client.push_information(
        company,
        InformationPush(
            record_id="PEN-SAMPLE-118",
            category="food_safety",
            summary="SAMPLE: 销售超过保质期的食品，警告并罚款二万元",
            produced_on=today,
            document=decision,
        ),
        organ="230100-SCJGJ",
    )
    correction = client.correct_information(
        company,
        Correction(
            record_id="PEN-SAMPLE-118",
            category="food_safety",
            reason="wrong",
            discovered_on=today,
            corrected="SAMPLE: 罚款金额应为一万元",
        ),
        organ="230100-SCJGJ",
    )
    for receipt in (push, correction):
        print(
            f"  {receipt.article:<11} {receipt.kind.value:<11} {receipt.record_id}  "
            f"due {receipt.due}{'  LATE' if receipt.late else ''}"
        )
    client.flush(timeout=10)
    got = [d for d in sandbox.admin.duties() if d["record_id"] == "PEN-SAMPLE-118"]
    kinds = sorted(d["kind"] for d in got)
    verdict = tally.expect("push and correction delivered once", kinds == ["correction", "push"])
    print(f"\n  the platform received: {', '.join(kinds) or 'nothing'}   [{verdict}]")
    print(f"  (document {decision.number}, subject {got[0]['subject_display'] if got else '-'})")


# -- for the desk: the printable sheet and a CSV (issue 12) ---------------------------------------


def desk_files(client: CreditClient, out_dir: Path, tally: Tally) -> None:
    """A tender screened with progress, written as the verification sheet (联合奖惩核查单, A4
    HTML) and as CSV for Excel (UTF-8 with BOM, Chinese headers)."""
    from credit_sdk.adapters.procurement import Bidder, screen_tender

    section("8. For the desk 核查单与表格: the printable verification sheet and a CSV")
    ctx = QueryContext(
        organ="230100-GGZY",
        operator="evaluator-7",
        matter_code="BID-2026-017",
        purpose="qualification screening of the bidders of tender HLJ-2026-017 (sample)",
    )
    states = ("severe_list", "red_list", "clean", "disputed")
    bidders = [Bidder(f"投标人{chr(65 + n)}", subject(s)) for n, s in enumerate(states)]
    rounds: list[tuple[int, int, int]] = []
    screening = screen_tender(
        client, "HLJ-2026-017", bidders, ctx, as_of=AS_OF, progress=lambda *a: rounds.append(a)
    )
    print(screening.render())
    out_dir.mkdir(parents=True, exist_ok=True)
    sheet = out_dir / "核查单-HLJ-2026-017.html"
    table = out_dir / "核查结果-HLJ-2026-017.csv"
    html = screening.to_html(log=client.query_log)
    sheet.write_text(html, encoding="utf-8")
    table.write_text(screening.to_csv(), encoding="utf-8", newline="")
    titles = [m.title for d in screening.decisions for m in (*d.restrictions, *d.incentives)]
    raw_ids = [subject(s) for s in states]
    ok = (
        "联合奖惩核查单" in html
        and all(t in html for t in titles)
        and table.read_bytes().startswith(b"\xef\xbb\xbf")
        and not any(r in html or r in table.read_text(encoding="utf-8-sig") for r in raw_ids)
        and rounds[-1] == (len(states), len(states), 0)
    )
    verdict = tally.expect("verification sheet and CSV written", ok)
    print(f"\n  progress (done, total, failures): {rounds}")
    print(f"  核查单 sheet  {sheet}  (open it in a browser and print it on A4)")
    print(f"  表格 CSV      {table}  (opens in Excel; subjects masked)   [{verdict}]")


def query_log(path: Path, stats: Any, tally: Tally) -> None:
    section("9. The query log 查询记录 (Art. 25): every query, hash-chained")
    by_outcome = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_outcome.items()))
    print(
        f"  {stats.records} records: {stats.intents} intents, {stats.completions} completions, "
        f"{stats.incomplete} incomplete; outcomes: {by_outcome}"
    )
    print("  (subjects appear only as keyed pseudonyms and masked forms)")
    print("\n  $ credit-sdk audit verify --db <the demo's query log>")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = credit_sdk_cli(["audit", "verify", "--db", str(path)])
    print(f"  {out.getvalue().strip()}")
    tally.expect("query log verified", code == 0 and stats.incomplete == 0)


# -- a log outsiders can check (separate step: signed checkpoints, the report archive) ----------


@dataclass
class Witnessing:
    """The checkpoint key (never in the database), the witness file and the archive key."""

    signer: CheckpointSigner
    witness_file: Path
    archive: ReportArchive
    lists_dir: Path

    @classmethod
    def fresh(cls, work: Path) -> Witnessing:
        witness_file = work / "witness-checkpoints.jsonl"
        witness_file.unlink(missing_ok=True)
        archive = ReportArchive(secrets.token_bytes(32))
        return cls(CheckpointSigner.generate(), witness_file, archive, work / "lists")

    def policy(self) -> CheckpointPolicy:
        return CheckpointPolicy(self.signer, sinks=[FileCheckpointSink(self.witness_file)])


def witnessed(
    client: CreditClient, log: Any, sandbox: SandboxServer, w: Witnessing, handled: Handled,
    tally: Tally,
) -> None:  # fmt: skip
    section("7. A log outsiders can check (Art. 25, 50): a witnessed checkpoint, a replay")
    cp = log.checkpoint()
    client.flush(timeout=10)  # the checkpoint goes out through the outbox like feedback
    kept = [c for c in sandbox.admin.checkpoints() if cp is not None and c["seq"] == cp.seq]
    ok = cp is not None and len(kept) == 1 and kept[0]["hash"] == cp.hash
    if cp is not None:
        print(f"  checkpoint  record {cp.seq}, hash {cp.hash[:16]}..., signed by key {cp.key}")
    verdict = tally.expect("checkpoint witnessed by the sandbox", ok)
    print(f"  the sandbox platform keeps it (POST /v1/checkpoints)   [{verdict}]")
    witness = [SignedCheckpoint.from_dict({k: v for k, v in c.items() if k != "received_at"})
               for c in kept]  # fmt: skip
    proof = log.verify(witness, public_key=w.signer.public_key)
    verdict = tally.expect("log proven against the witness", proof.witnessed_seq is not None)
    print(f"  {proof}   [{verdict}]")
    restricted = next((d for d, _ in handled if d.restrictions and d.query_id), None)
    if restricted is None or restricted.query_id is None:
        tally.expect("a restricted decision to replay", False)
        return
    result = replay(log, restricted.query_id, archive=w.archive, lists_dir=w.lists_dir)
    verdict = tally.expect("decision replayed from its archived report", result.same)
    print(f"\n  $ credit-sdk audit replay {restricted.query_id} --archive-key <key>")
    print(f"  {result}   [{verdict}]")


# -- main -------------------------------------------------------------------------------------


@contextlib.contextmanager
def workdir(keep: str | None) -> Iterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix="credit-sdk-demo-") as tmp:
            yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="credit-sdk end to end against a local sandbox (SAMPLE data)."
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the query log in DIR (e.g. .demo) to inspect it with credit-sdk audit",
    )
    parser.add_argument("--skip-examples", action="store_true", help="only the scripted checks")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tally = Tally()
    print("credit-sdk demo: SAMPLE subjects on a local sandbox platform (NOT a production")
    print(f"platform); decisions as of {AS_OF} under the draft regulation's rules.")
    with workdir(args.keep) as work, SandboxServer() as sandbox:
        db = work / "query-log.db"
        db.unlink(missing_ok=True)  # each run starts its own chain
        witness = Witnessing.fresh(work)
        log = open_query_log(db, checkpoints=witness.policy())
        print(f"\n  sandbox    {sandbox.url} (loopback, {len(sandbox.seeded)} seeded subjects)")
        print(f"  query log  SQLite, {'kept in ' + str(db) if args.keep else 'a temporary file'}")
        try:
            with CreditClient.sandbox(
                sandbox.url,
                token=sandbox.token,
                audit=log,
                # A fresh key per run: pseudonyms in this log link nothing beyond it.
                pseudonym_key=secrets.token_bytes(32),
                lists_dir=work / "lists",
                report_archive=witness.archive,
            ) as client:
                status = client.wait_until_ready(timeout=10)
                print("  lists      verified from the platform:")
                for edition in status.lists:
                    print(f"               {edition}")
                handled = permit_window(client, tally)
                # The bidding example prints every bidder's file; without it, this section does.
                bidding_example = (
                    not args.skip_examples and (ROOT / "examples" / "bidding_platform").exists()
                )
                handled += tender(client, tally, details=not bidding_example)
                handled += personnel(client, tally)
                outage(client, sandbox, tally)
                if not args.skip_examples:
                    examples(sandbox, tally)
                feedback(client, sandbox, handled, tally)
                duties(client, sandbox, tally)
                witnessed(client, log, sandbox, witness, handled, tally)
                desk_files(client, Path(args.keep) if args.keep else ROOT / ".demo", tally)
            stats = log.stats()
        finally:
            log.close()
        query_log(db, stats, tally)
    section("Summary")
    print(f"  {len(tally.passed)} steps as expected, {len(tally.failed)} unexpected, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    for failure in tally.failed:
        print(f"  UNEXPECTED: {failure}")
    if args.keep:
        print(f"  inspect the log: credit-sdk audit stats --db {db}")
    print("  all good" if not tally.failed else "  the demo FAILED")
    return 0 if not tally.failed else 1


if __name__ == "__main__":
    sys.exit(main())
