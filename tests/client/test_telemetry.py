"""OpenTelemetry: one span per check, counters and a histogram, and nothing personal in any
attribute (checked with the SDK's in-memory exporter and reader)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from credit_sdk import (
    Authorization,
    CreditClient,
    MemoryProvider,
    MemoryQueryLog,
    PlatformUnavailable,
    QueryContext,
    Scenario,
    parse_identifier,
)
from tests.client.conftest import COMPANY, KEY, PERSON, dishonest_person_report


@pytest.fixture(scope="session")
def otel() -> tuple[InMemorySpanExporter, InMemoryMetricReader]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return exporter, reader


@pytest.fixture
def spans(
    otel: tuple[InMemorySpanExporter, InMemoryMetricReader],
) -> Iterator[InMemorySpanExporter]:
    otel[0].clear()
    yield otel[0]
    otel[0].clear()


def forbidden_values() -> set[str]:
    values = {COMPANY, PERSON}
    for raw in (COMPANY, PERSON):
        ident = parse_identifier(raw)
        values |= {ident.pseudonym(KEY), ident.reveal()}
    return values


def all_attribute_text(exporter: InMemorySpanExporter) -> str:
    parts = []
    for span in exporter.get_finished_spans():
        parts.append(span.name)
        parts.append(
            json.dumps(
                {
                    k: list(v) if isinstance(v, tuple) else v
                    for k, v in (span.attributes or {}).items()
                },
                ensure_ascii=False,
            )
        )
        for event in span.events:
            parts.append(json.dumps(dict(event.attributes or {}), default=str))
    return "\n".join(parts)


def test_one_span_per_check_with_pii_free_attributes(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    ctx: QueryContext,
    grant: Authorization,
    spans: InMemorySpanExporter,
) -> None:
    platform.set_report(PERSON, dishonest_person_report())
    client = make_client()
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    client.check(PERSON, Scenario.PROMOTION, ctx, authorization=grant)
    client.check_many([COMPANY, PERSON], Scenario.BIDDING, ctx)
    finished = spans.get_finished_spans()
    assert [s.name for s in finished] == ["credit_sdk.check"] * 3 + ["credit_sdk.check_many"]
    first = dict(finished[0].attributes or {})
    assert first["credit_sdk.scenario"] == "government_procurement"
    assert first["credit_sdk.outcome"] == decision.outcome.value
    assert first["credit_sdk.measures.restrictions"] == len(decision.restrictions)
    assert first["credit_sdk.cache_hit"] is False
    assert dict(finished[1].attributes or {})["credit_sdk.cache_hit"] is True
    assert first["credit_sdk.lists"]
    text = all_attribute_text(spans)
    for value in forbidden_values():
        assert value not in text
    for text_field in (ctx.purpose, ctx.operator, grant.grant_id):
        assert text_field not in text


def test_the_trace_id_goes_into_the_query_log(
    make_client: Callable[..., CreditClient],
    audit: MemoryQueryLog,
    ctx: QueryContext,
    spans: InMemorySpanExporter,
) -> None:
    make_client().check(COMPANY, Scenario.BIDDING, ctx)
    (span,) = spans.get_finished_spans()
    intent = next(r.intent() for r in audit.export() if r.kind == "intent")
    assert intent is not None
    assert intent.trace_id == f"{span.context.trace_id:032x}"


def test_failed_checks_set_error_status_without_messages(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    ctx: QueryContext,
    spans: InMemorySpanExporter,
    otel: Any,
) -> None:
    from credit_sdk import FailurePolicy

    client = make_client(failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True))
    platform.fail_next(PlatformUnavailable(f"down while asking about {COMPANY}"))
    with pytest.raises(PlatformUnavailable):
        client.check(COMPANY, Scenario.BIDDING, ctx)
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "PlatformUnavailable"
    assert COMPANY not in all_attribute_text(spans)
    assert COMPANY not in (span.status.description or "")
    data = otel[1].get_metrics_data()
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert {"credit_sdk.checks", "credit_sdk.check.errors", "credit_sdk.check.duration"} <= names
    serialized = data.to_json()
    for value in forbidden_values():
        assert value not in serialized


def test_telemetry_can_be_switched_off(
    make_client: Callable[..., CreditClient], ctx: QueryContext, spans: InMemorySpanExporter
) -> None:
    make_client(telemetry=False).check(COMPANY, Scenario.BIDDING, ctx)
    assert spans.get_finished_spans() == ()
