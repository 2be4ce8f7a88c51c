"""The HTTP transport and provider with respx: retries, Retry-After, limits, breaker, auth."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import credit_sdk
from credit_sdk import (
    BearerToken,
    CreditClient,
    HmacCredentials,
    HttpProvider,
    MeasureList,
    MemoryQueryLog,
    Outcome,
    PlatformError,
    PlatformProtocolError,
    PlatformUnavailable,
    QueryContext,
    RetryPolicy,
    Scenario,
    parse_identifier,
)
from credit_sdk._providers import ListIndexEntry, ReportQuery
from credit_sdk._signing import verify_signature
from credit_sdk._transport import CircuitBreaker, SyncTransport, TransportConfig
from tests.client.conftest import COMPANY, KEY, FakeClock, severe_company_report

BASE = "https://platform.test"
TOKEN = "s3cret-bearer-token-value"
SECRET = b"an-app-secret-of-some-length"
REPORT_PATH = "/v1/reports:query"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def make_provider(
    sleeps: Sleeps,
    *,
    credentials: Any = None,
    retry: RetryPolicy | None = None,
    breaker: CircuitBreaker | None = None,
    max_response_bytes: int = 64 * 1024,
) -> HttpProvider:
    config = TransportConfig(
        BASE,
        credentials or BearerToken(TOKEN),
        retry=retry or RetryPolicy(max_attempts=3, initial_backoff=0.1, retry_after_cap=5),
        max_response_bytes=max_response_bytes,
    )
    return HttpProvider(SyncTransport(config, breaker=breaker, sleep=sleeps))


@pytest.fixture
def provider(sleeps: Sleeps) -> Iterator[HttpProvider]:
    p = make_provider(sleeps)
    yield p
    p.close()


def query() -> ReportQuery:
    ctx = QueryContext(organ="o-1", operator="u-1", matter_code="m-1", purpose="p")
    return ReportQuery("q-0001", parse_identifier(COMPANY), Scenario.BIDDING, ctx)


def ok_report() -> httpx.Response:
    return httpx.Response(200, json=severe_company_report(), headers={"X-Request-Id": "r-1"})


def problem(status: int, **headers: str) -> httpx.Response:
    body = {
        "type": "about:blank",
        "title": "Busy",
        "status": status,
        "detail": "try later",
        "request_id": "r-9",
    }
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/problem+json", **headers}
    )


# --- request shape ------------------------------------------------------------------------------


def test_report_query_is_a_post_with_the_identifier_in_the_body_only(
    router: respx.MockRouter, provider: HttpProvider
) -> None:
    route = router.post(REPORT_PATH).mock(return_value=ok_report())
    report = provider.query_report(query())
    assert report.subject.identifier == parse_identifier(COMPANY)
    request = route.calls.last.request
    assert COMPANY not in str(request.url)
    body = json.loads(request.content)
    assert body["subject"] == {"kind": "uscc", "number": COMPANY}
    assert body["query_id"] == "q-0001"
    assert body["scenario"] == "bidding"
    assert request.headers["Idempotency-Key"] == "q-0001"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"


def test_hmac_signing_verifies_with_the_platform_function(
    router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(REPORT_PATH).mock(return_value=ok_report())
    p = make_provider(sleeps, credentials=HmacCredentials("app-1", SECRET))
    try:
        p.query_report(query())
    finally:
        p.close()
    request = route.calls.last.request
    assert "Authorization" not in request.headers
    assert (
        verify_signature(
            "POST",
            request.url.raw_path.decode(),
            request.content,
            request.headers,
            app_id="app-1",
            secret=SECRET,
        )
        is None
    )


# --- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_with_jittered_backoff(
    router: respx.MockRouter, provider: HttpProvider, sleeps: Sleeps, status: int
) -> None:
    route = router.post(REPORT_PATH).mock(
        side_effect=[problem(status), problem(status), ok_report()]
    )
    provider.query_report(query())
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 2.0 for s in sleeps)


def test_retry_after_is_honoured_and_capped(
    router: respx.MockRouter, provider: HttpProvider, sleeps: Sleeps
) -> None:
    router.post(REPORT_PATH).mock(
        side_effect=[
            problem(503, **{"Retry-After": "2"}),
            problem(429, **{"Retry-After": "120"}),
            ok_report(),
        ]
    )
    capped = make_provider(
        sleeps, retry=RetryPolicy(max_attempts=3, initial_backoff=0.1, retry_after_cap=2.5)
    )
    capped.query_report(query())
    assert sleeps == [2.0, 2.5]  # as asked, then capped at retry_after_cap


def test_a_retry_that_would_start_after_the_deadline_is_not_waited_for(
    router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(REPORT_PATH).mock(
        side_effect=[problem(503, **{"Retry-After": "60"}), ok_report()]
    )
    patient = make_provider(
        sleeps, retry=RetryPolicy(max_attempts=3, initial_backoff=0.1, retry_after_cap=120)
    )
    with pytest.raises(PlatformUnavailable, match="overall deadline") as err:
        patient.query_report(query())
    assert sleeps == []  # the wait would outlast the 5 s deadline: give up now, not in 60 s
    assert route.call_count == 1
    assert err.value.status_code == 503


def test_connection_errors_are_retried_then_unavailable(
    router: respx.MockRouter, provider: HttpProvider, sleeps: Sleeps
) -> None:
    route = router.post(REPORT_PATH).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(PlatformUnavailable) as err:
        provider.query_report(query())
    assert route.call_count == 3
    assert isinstance(err.value.__cause__, httpx.ConnectError)  # raise ... from err


def test_timeouts_are_unavailable(router: respx.MockRouter, provider: HttpProvider) -> None:
    router.post(REPORT_PATH).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(PlatformUnavailable, match="timed out"):
        provider.query_report(query())


def test_last_status_is_kept_on_the_error(router: respx.MockRouter, provider: HttpProvider) -> None:
    router.post(REPORT_PATH).mock(return_value=problem(503))
    with pytest.raises(PlatformUnavailable) as err:
        provider.query_report(query())
    assert err.value.status_code == 503
    # The platform's title is foreign free text: on the exception, never in its message.
    assert err.value.title == "Busy"
    assert "Busy" not in str(err.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_client_errors_are_not_retried(
    router: respx.MockRouter, provider: HttpProvider, status: int
) -> None:
    route = router.post(REPORT_PATH).mock(return_value=problem(status))
    with pytest.raises(PlatformError) as err:
        provider.query_report(query())
    assert type(err.value) is PlatformError
    assert err.value.status_code == status
    assert route.call_count == 1


def test_a_post_without_idempotency_key_is_never_retried(sleeps: Sleeps) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v1/anything").mock(return_value=problem(503))
        transport = SyncTransport(TransportConfig(BASE, BearerToken(TOKEN)), sleep=sleeps)
        try:
            with pytest.raises(PlatformUnavailable):
                transport.request("POST", "/v1/anything", body=b"{}")
        finally:
            transport.close()
    assert route.call_count == 1
    assert sleeps == []


def test_gets_are_retried(router: respx.MockRouter, provider: HttpProvider) -> None:
    route = router.get("/v1/health").mock(
        side_effect=[problem(502), httpx.Response(200, json={"status": "ok"})]
    )
    assert provider.health()["status"] == "ok"
    assert route.call_count == 2


# --- what comes back ----------------------------------------------------------------------------


class _CutShort(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'{"report_id": "r'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


class _Endless(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        while True:
            yield b" " * 8192


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (
            httpx.Response(200, content=b"{not json", headers={"Content-Type": "application/json"}),
            "not valid JSON",
        ),
        (httpx.Response(200, json={"report_id": "x"}), "contract"),  # wrong schema
        (httpx.Response(200, text="<html>hello</html>"), "expected application/json"),
        (
            httpx.Response(200, headers={"Content-Type": "application/json"}, stream=_CutShort()),
            "cut short",
        ),
        (
            httpx.Response(200, headers={"Content-Type": "application/json"}, stream=_Endless()),
            "limit",
        ),
        (
            httpx.Response(
                200,
                headers={"Content-Type": "application/json", "Content-Length": str(10**9)},
                content=b"{}",
            ),
            "limit",
        ),
    ],
    ids=["malformed", "wrong-schema", "wrong-type", "truncated", "oversized", "declared-size"],
)
def test_broken_answers_are_protocol_errors(
    router: respx.MockRouter, provider: HttpProvider, response: httpx.Response, match: str
) -> None:
    route = router.post(REPORT_PATH).mock(return_value=response)
    with pytest.raises(PlatformProtocolError, match=match):
        provider.query_report(query())
    assert route.call_count == 1


def test_a_report_about_someone_else_is_refused(
    router: respx.MockRouter, provider: HttpProvider
) -> None:
    other = severe_company_report()
    other["subject"]["identifier"] = parse_identifier("91110000600037341L").reveal()
    router.post(REPORT_PATH).mock(return_value=httpx.Response(200, json=other))
    with pytest.raises(PlatformProtocolError, match="another subject"):
        provider.query_report(query())


def test_problem_details_never_echo_identifiers(
    router: respx.MockRouter, provider: HttpProvider
) -> None:
    body = {"title": "Bad", "detail": f"subject {COMPANY} unknown", "status": 422}
    router.post(REPORT_PATH).mock(return_value=httpx.Response(422, json=body))
    with pytest.raises(PlatformError) as err:
        provider.query_report(query())
    assert COMPANY not in str(err.value)
    assert "unknown" not in str(err.value)  # free text stays off the message
    assert err.value.detail is not None
    assert COMPANY not in err.value.detail  # and is redacted even on the exception
    assert "[redacted]" in err.value.detail


def test_list_editions_are_verified_against_the_index(
    router: respx.MockRouter, provider: HttpProvider
) -> None:
    raw = sorted((Path(credit_sdk.__file__).parent / "data" / "lists").glob("*.json"))[
        0
    ].read_bytes()
    lst = MeasureList.from_json(raw)
    path = f"/v1/measure-lists/{lst.list_id}/versions/{lst.version}"
    router.get(path).mock(
        return_value=httpx.Response(200, content=raw, headers={"Content-Type": "application/json"})
    )
    with pytest.raises(PlatformProtocolError, match="sha256 does not match"):
        provider.fetch_list(ListIndexEntry(lst.list_id, lst.version, "0" * 64))
    fetched = provider.fetch_list(ListIndexEntry(lst.list_id, lst.version, lst.sha256))
    assert fetched.measure_list.sha256 == lst.sha256
    assert fetched.raw == raw


# --- circuit breaker ----------------------------------------------------------------------------


def test_breaker_opens_fails_fast_and_recovers(router: respx.MockRouter, sleeps: Sleeps) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_time=30, clock=clock)
    p = make_provider(sleeps, retry=RetryPolicy(max_attempts=1), breaker=breaker)
    route = router.post(REPORT_PATH).mock(return_value=problem(503))
    try:
        for _ in range(2):
            with pytest.raises(PlatformUnavailable):
                p.query_report(query())
        assert breaker.state == "open"
        with pytest.raises(PlatformUnavailable, match="circuit breaker open"):
            p.query_report(query())
        assert route.call_count == 2  # the open breaker sent nothing
        clock.advance(31)
        assert breaker.state == "half_open"
        route.mock(return_value=ok_report())
        p.query_report(query())  # the trial succeeds
        assert breaker.state == "closed"
        route.mock(return_value=problem(503))
        for _ in range(2):
            with pytest.raises(PlatformUnavailable):
                p.query_report(query())
        clock.advance(31)
        with pytest.raises(PlatformUnavailable):
            p.query_report(query())  # a failed trial opens it again at once
        assert breaker.state == "open"
    finally:
        p.close()


def test_429_and_client_errors_do_not_open_the_breaker(
    router: respx.MockRouter, sleeps: Sleeps
) -> None:
    breaker = CircuitBreaker(failure_threshold=1)
    p = make_provider(sleeps, retry=RetryPolicy(max_attempts=1), breaker=breaker)
    router.post(REPORT_PATH).mock(side_effect=[problem(429), problem(404)])
    try:
        for _ in range(2):
            with pytest.raises(PlatformError):
                p.query_report(query())
    finally:
        p.close()
    assert breaker.state == "closed"


# --- secrets, fork safety, the client on top ----------------------------------------------------


def test_secrets_never_appear_in_reprs_errors_or_logs(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture, ctx: QueryContext, tmp_path: Path
) -> None:
    router.post(REPORT_PATH).mock(side_effect=httpx.ConnectError(f"boom {TOKEN}"))
    secret_hex = KEY.hex()
    with caplog.at_level(logging.DEBUG), MemoryQueryLog() as log:
        for creds in ({"token": TOKEN}, {"app_id": "app-1", "app_secret": SECRET}):
            with CreditClient(
                BASE,
                **creds,
                audit=log,
                pseudonym_key=KEY,
                catalog=None,
                lists_dir=tmp_path,
                list_sync_interval=None,
                retry=RetryPolicy(max_attempts=2, initial_backoff=0),
            ) as client:
                decision = client.check(COMPANY, Scenario.BIDDING, ctx)
                text = " ".join(
                    [
                        repr(client),
                        repr(client._provider),
                        str(client.status()),
                        repr(decision),
                        caplog.text,
                    ]
                )
                for secret in (TOKEN, SECRET.decode(), secret_hex, COMPANY):
                    assert secret not in text
    assert decision.outcome is Outcome.INDETERMINATE


def test_a_forked_child_builds_its_own_pool(
    router: respx.MockRouter, provider: HttpProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    router.get("/v1/health").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    provider.health()
    parent_pool = provider.transport._client
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)
    provider.health()
    assert provider.transport._client is not parent_pool
    monkeypatch.undo()
    assert parent_pool is not None
    parent_pool.close()


def test_transport_config_is_validated() -> None:
    with pytest.raises(ValueError, match="absolute"):
        TransportConfig("platform.test", BearerToken(TOKEN))
    with pytest.raises(ValueError, match="credentials"):
        TransportConfig("https://user:pw@platform.test", BearerToken(TOKEN))
    with pytest.raises(ValueError, match="empty"):
        BearerToken(" ")
    with pytest.raises(ValueError, match="16 bytes"):
        HmacCredentials("app", b"short")


def test_the_async_transport_retries_and_limits_like_the_sync_one(router: respx.MockRouter) -> None:
    import asyncio

    from credit_sdk import AsyncHttpProvider
    from credit_sdk._transport import AsyncTransport

    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    route = router.post(REPORT_PATH).mock(
        side_effect=[problem(503, **{"Retry-After": "1"}), httpx.ConnectError("x"), ok_report()]
    )
    config = TransportConfig(
        BASE,
        BearerToken(TOKEN),
        max_connections=2,
        retry=RetryPolicy(max_attempts=3, retry_after_cap=5),
    )

    async def main() -> None:
        provider = AsyncHttpProvider(AsyncTransport(config, sleep=fake_sleep))
        try:
            report = await provider.query_report(query())
            assert report.subject.identifier == parse_identifier(COMPANY)
            route.mock(return_value=httpx.Response(200, text="<html/>"))
            with pytest.raises(PlatformProtocolError):
                await provider.query_report(query())
            route.mock(return_value=ok_report())
            reports = await asyncio.gather(*(provider.query_report(query()) for _ in range(10)))
            assert len(reports) == 10
        finally:
            await provider.aclose()

    asyncio.run(main())
    assert waits[0] == 1.0
    assert len(waits) == 2
