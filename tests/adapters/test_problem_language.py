"""Problem documents speak Chinese first; ``type`` and the machine members never change."""

from __future__ import annotations

import pytest
from credit_sdk.adapters._common import RefusalPolicy, decision_problem, error_problem

from credit_sdk import (
    AuthorizationError,
    ConfigurationError,
    InvalidIdentifier,
    MemoryQueryLog,
    QueryContext,
    parse_identifier,
)
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(organ="230100-GGZY", operator="u1", matter_code="M", purpose="sample check")


def _restricted_problem(lang: str) -> dict[str, object]:
    platform = CreditPlatform()
    platform.subject(fake_uscc(3)).on_severe_list()
    with platform.client(audit=MemoryQueryLog()) as client:
        decision = client.check(fake_uscc(3), "bidding", CTX)
    return dict(decision_problem(decision, 403, RefusalPolicy(lang=lang)).body)  # type: ignore[arg-type]


def test_refusal_title_and_detail_are_chinese_first() -> None:
    both, zh, en = (_restricted_problem(x) for x in ("zh-en", "zh", "en"))
    assert both["title"] == "适用失信约束措施 Credit restrictions apply"
    assert zh["title"] == "适用失信约束措施"
    assert en["title"] == "Credit restrictions apply"
    assert str(both["detail"]).startswith("主体 9123")
    assert "published restriction" in str(both["detail"])
    assert "published" not in str(zh["detail"])
    # What programs read does not move with the language.
    for key in ("type", "status", "outcome", "reason_codes", "restrictions"):
        assert both[key] == zh[key] == en[key], key
    assert fake_uscc(3) not in str(both)


def test_request_errors_have_distinct_types_and_chinese_titles() -> None:
    try:
        parse_identifier("91230100MA1EXA0170")
    except InvalidIdentifier as err:
        bad_id = error_problem(err, RefusalPolicy())
    no_grant = error_problem(
        AuthorizationError("no grant", rule="authorization_missing"), RefusalPolicy()
    )
    assert bad_id is not None
    assert no_grant is not None
    assert (bad_id.status, no_grant.status) == (422, 403)
    assert bad_id.body["type"] == "urn:credit-sdk:problem:invalid-identifier"
    assert no_grant.body["type"] == "urn:credit-sdk:problem:authorization-required"
    assert str(bad_id.body["title"]).startswith("证件号码或统一社会信用代码无效")
    assert str(no_grant.body["title"]).startswith("信息主体的授权不允许本次查询")
    assert "authorization_missing" in str(no_grant.body["detail"])


def test_unknown_language_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="lang"):
        RefusalPolicy(lang="fr")  # type: ignore[arg-type]
