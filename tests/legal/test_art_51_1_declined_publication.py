"""Art. 51 ¶1: a subject may ask that its trustworthy information not be published.

信用主体的基础信息和守信信息可以依法长期公示。信用主体提出不公示自身守信信息的，不予公示。

The request withholds *publication*: the publicity measures of Art. 40(5) (宣传推介 on government
and credit websites and in the media). The information is still shared between organs, so the
other incentives it earns (green channel, priority in awards, procurement bonus) still apply.
"""

from __future__ import annotations

from credit_sdk import CreditReport, Outcome, Scenario
from tests.legal.builders import check, commendation, exclusions_for, report

PUBLICITY = "HLJ-INC-40.5-01"


def _honoured(declined: bool) -> CreditReport:
    return report(records=[commendation("R-H", publication_declined=declined)])


def test_publicity_applies_when_publication_is_not_declined() -> None:
    decision = check(_honoured(False), Scenario.OTHER)
    assert PUBLICITY in {m.measure_id for m in decision.incentives}


def test_declined_publication_withholds_the_publicity_measure() -> None:
    decision = check(_honoured(True), Scenario.OTHER)
    assert PUBLICITY not in {m.measure_id for m in decision.incentives}
    (excl,) = exclusions_for(decision, "WITHHELD_AT_SUBJECT_REQUEST")
    assert excl.measure_id == PUBLICITY
    assert excl.item_id == "R-H"
    assert "Art. 51" in excl.detail


def test_declined_publication_keeps_the_other_incentives() -> None:
    for scenario, item in [
        (Scenario.AWARDS, "40.4"),  # priority in awards
        (Scenario.ADMIN_LICENSING, "40.1"),  # green channel
        (Scenario.GOVERNMENT_PROCUREMENT, "40.2"),  # procurement bonus
    ]:
        decision = check(_honoured(True), scenario)
        assert decision.outcome is Outcome.INCENTIVES, scenario
        assert item in {m.range_item for m in decision.incentives}, scenario
