"""The pytest plugin as an integrator meets it: sample test files run through pytest itself."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
FIXTURES = {
    "credit_platform",
    "credit_query_log",
    "credit_query_context",
    "credit_client",
    "async_credit_client",
    "credit_platform_http",
}
RUN = ("-W", "error", "-p", "no:cacheprovider", "-q")


def docs_block(heading: str) -> str:
    """The first python code block after ``heading`` in docs/testing.md."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert match is not None, heading
    return match.group(1)


def test_registered_as_a_pytest11_entry_point() -> None:
    (entry,) = [
        e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "credit_sdk"
    ]
    assert entry.value == "credit_sdk.testing.plugin"


def test_plugin_defines_its_fixtures_and_collides_with_none_of_the_suites(
    request: pytest.FixtureRequest,
) -> None:
    plugin = request.config.pluginmanager.get_plugin("credit_sdk")
    assert plugin is not None
    defined = {
        name
        for name, value in vars(plugin).items()
        if hasattr(value, "_fixture_function_marker")
        or type(value).__name__ == "FixtureFunctionDefinition"
    }
    assert defined == FIXTURES
    assert "sandbox_server" not in defined


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    # pytest imports the plugin in every run of every project that installs credit-sdk.
    code = (
        "import sys, credit_sdk.testing.plugin\n"
        "heavy = ['httpx', 'pydantic', 'respx', 'tenacity', 'credit_sdk._client',\n"
        "         'credit_sdk._providers', 'credit_sdk._engine', 'credit_sdk.testing._platform']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_documented_permit_system_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_permit_credit=docs_block("## A complete example"))
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=10)


def test_the_documented_http_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_http=docs_block("## HTTP in the loop"))
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=2)


def test_a_bidding_platform_suite_over_the_wire_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bidding="""
        import asyncio

        import httpx
        import pytest

        from credit_sdk import Outcome
        from credit_sdk.adapters.procurement import Bidder, screen_tender
        from credit_sdk.testing import fake_uscc


        @pytest.fixture
        def tender(credit_platform):
            credit_platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
            credit_platform.subject(fake_uscc(2)).on_red_list()
            return [Bidder("A", fake_uscc(1)), Bidder("B", fake_uscc(2)), Bidder("C", fake_uscc(3))]


        def test_tender_over_http(credit_platform_http, credit_query_context, credit_query_log,
                                  tender):
            client = credit_platform_http.client()
            screening = screen_tender(client, "ZB-1", tender, credit_query_context)
            assert [b.label for b in screening.excluded] == ["A"]
            assert credit_platform_http.requests["reports:batchQuery"] == 1
            assert credit_query_log.stats().completions == 3


        def test_platform_down_fails_closed_after_retries(credit_platform, credit_platform_http,
                                                          credit_query_context):
            client = credit_platform_http.client()
            credit_platform.down()
            decision = client.check(fake_uscc(1), "bidding", credit_query_context)
            assert decision.outcome is Outcome.INDETERMINATE
            assert credit_platform_http.requests["reports:query"] == 3   # three attempts


        def test_malformed_and_timeouts(credit_platform, credit_platform_http,
                                        credit_query_context, tender):
            client = credit_platform_http.client()
            def outcome():
                return client.check(fake_uscc(1), "bidding", credit_query_context).outcome

            credit_platform.malformed(times=1)
            assert outcome() == "INDETERMINATE"
            credit_platform.timeout(times=3)
            assert outcome() == "INDETERMINATE"
            assert outcome() == "RESTRICTED"


        def test_feedback_over_http_is_idempotent(credit_platform, credit_platform_http,
                                                  credit_query_context, tender):
            client = credit_platform_http.client()
            decision = client.check(fake_uscc(1), "bidding", credit_query_context)
            for _ in range(2):
                client.feedback(decision, applied=[decision.restrictions[0].measure_id],
                                case_id="ZB-1", implementing_department="CZJ")
            assert client.flush(timeout=5).pending == 0
            assert len(credit_platform.feedback_for(decision)) == 1


        def test_async_client_over_http(credit_platform, credit_platform_http,
                                        credit_query_context):
            credit_platform.subject(fake_uscc(4)).on_red_list()
            credit_platform.slow(0.01, times=1)

            async def main():
                async with credit_platform_http.async_client() as client:
                    return await client.check(fake_uscc(4), "bidding", credit_query_context)

            assert asyncio.run(main()).outcome is Outcome.INCENTIVES


        def test_wrong_token_is_refused(credit_platform_http, credit_query_context):
            client = credit_platform_http.client(token="not-the-token")
            decision = client.check(fake_uscc(1), "bidding", credit_query_context)
            assert decision.outcome is Outcome.INDETERMINATE
            with httpx.Client() as http:
                assert http.get(credit_platform_http.url + "/v1/health").status_code == 200
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=6)


def test_fixtures_are_isolated_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_isolation="""
        from credit_sdk.testing import fake_uscc

        def test_first(credit_platform, credit_client, credit_query_context):
            credit_platform.subject(fake_uscc(1)).on_severe_list()
            credit_platform.down(route="feedback")
            assert credit_client.check(fake_uscc(1), "bidding", credit_query_context).restrictions

        def test_second(credit_platform, credit_client, credit_query_log, credit_query_context):
            decision = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
            assert decision.outcome == "CLEAR"
            assert credit_query_log.stats().intents == 1
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


def test_failing_integrator_tests_fail(pytester: pytest.Pytester) -> None:
    # The fixtures do not swallow assertion errors or the SDK's own errors.
    pytester.makepyfile(
        test_fails="""
        import pytest
        from credit_sdk import InvalidIdentifier

        def test_wrong_expectation(credit_client, credit_query_context):
            from credit_sdk.testing import fake_uscc
            decision = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
            assert decision.outcome == "RESTRICTED"

        def test_invalid_identifier(credit_client, credit_query_context):
            credit_client.check("91230100MA1C2X3Y4X", "bidding", credit_query_context)
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*InvalidIdentifier*"])


def test_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_needs_it(credit_platform):\n    pass\n")
    result = pytester.runpytest(*RUN, "-p", "no:credit_sdk")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'credit_platform' not found*"])
