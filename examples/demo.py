"""`make demo`: the decision engine on the shipped **sample** subjects, as a case officer reads it.

Each case pairs a sample credit report (synthetic subjects, see credit_sdk/data/reports/) with
the decision point at which a state organ would query it (Art. 27), decides it against the
shipped measure lists under the draft regulation's rules, and prints the decision with its legal
basis and every reason for what was left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from credit_sdk import CreditReport, Scenario, decide, sample_report_path

AS_OF = dt.date(2026, 11, 29)

CASES: list[tuple[str, Scenario, str]] = [
    ("severe_list", Scenario.GOVERNMENT_PROCUREMENT, "a severe-list supplier in a procurement"),
    ("general_dishonesty", Scenario.ADMIN_LICENSING, "false materials, at a licensing window"),
    ("expired", Scenario.GOVERNMENT_PROCUREMENT, "the same kind of record, four years on"),
    ("repaired", Scenario.GOVERNMENT_PROCUREMENT, "after credit repair"),
    ("disputed", Scenario.BIDDING, "a severe record under objection, in a tender"),
    ("red_list", Scenario.ADMIN_LICENSING, "a red-list applicant at a licensing window"),
    (
        "linked_person",
        Scenario.QUALIFICATION_REVIEW,
        "legal representative of a severe-list company, SOE-director qualification review",
    ),
    ("judgment_defaulter", Scenario.CIVIL_SERVICE_HIRING, "a court defaulter applying for a post"),
    ("false_commitment", Scenario.ADMIN_LICENSING, "a false commitment: the commitment route"),
    ("minor_penalty", Scenario.ADMIN_LICENSING, "a simple-procedure penalty (Art. 19)"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", help="run one case only (sample report name)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.case in (None, c[0])]
    if not cases:
        parser.error(f"unknown case; choose from {', '.join(c[0] for c in CASES)}")
    print(f"credit-sdk demo: decision engine on SAMPLE subjects, as of {AS_OF}\n")
    summary = []
    for name, scenario, story in cases:
        report = CreditReport.parse(sample_report_path(name).read_bytes())
        decision = decide(report, scenario, as_of=AS_OF)
        print("=" * 78)
        print(f"[{name}] {story}")
        print("=" * 78)
        print(decision.explain())
        print()
        summary.append((name, scenario.value, decision.outcome.value))
    print("Summary")
    for name, scenario_value, outcome in summary:
        print(f"  {name:<20} {scenario_value:<24} {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
