"""OpenTelemetry (API only) and lifecycle hooks, with nothing personal in either.

One span per check (``credit_sdk.check``) whose attributes are the scenario, the outcome, the
subject *kind*, measure counts, whether the report came from the cache, the list versions and
the policy profile: never an identifier, a pseudonym, a name or a purpose text. Counters
``credit_sdk.checks`` and ``credit_sdk.check.errors`` and the histogram
``credit_sdk.check.duration`` (seconds) carry the same low-cardinality attributes.

Only ``opentelemetry-api`` is used: without an SDK configured by the host, every call is a no-op
and costs next to nothing; the host's own SDK and exporters pick everything up otherwise. The
API is imported on first use, not at ``import credit_sdk``.

Hooks (:class:`Hook`) see each check before, after and on error. A hook that raises is logged
and ignored: a monitoring hook must never change a decision or crash the host.

>>> class Count(Hook):
...     def __init__(self): self.n = 0
...     def after(self, info, decision): self.n += 1
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from credit_sdk._decision import Decision
from credit_sdk._version import __version__

__all__ = ["CheckInfo", "Hook", "Telemetry"]

_log = logging.getLogger("credit_sdk.hooks")


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What a hook may know about a check: no raw identifier, only the masked form."""

    query_id: str
    scenario: str
    subject_kind: str
    subject_masked: str
    organ: str


class Hook:
    """Subclass and override any of :meth:`before`, :meth:`after`, :meth:`error`.

    >>> class Alert(Hook):
    ...     def after(self, info, decision):
    ...         if decision.outcome == "RESTRICTED":
    ...             print("restricted", info.subject_masked)
    """

    def before(self, info: CheckInfo) -> None:
        """Called before the query is logged and the report fetched."""

    def after(self, info: CheckInfo, decision: Decision) -> None:
        """Called with the decision, after its completion record is durable."""

    def error(self, info: CheckInfo, error: BaseException) -> None:
        """Called when the check raises."""


class _Span:
    """What the client writes while a check runs (a thin view over the OTel span)."""

    __slots__ = ("attributes", "span")

    def __init__(self, span: Any) -> None:
        self.span = span
        self.attributes: dict[str, Any] = {}

    @property
    def recording(self) -> bool:
        return self.span is not None and bool(self.span.is_recording())

    def set_decision(self, decision: Decision, cache_hit: bool) -> None:
        self.attributes["credit_sdk.outcome"] = decision.outcome.value
        self.attributes["credit_sdk.cache_hit"] = cache_hit
        if self.recording:
            self.attributes.update(decision_attributes(decision, cache_hit))

    def trace_id(self) -> str | None:
        if self.span is None:
            return None
        ctx = self.span.get_span_context()
        return f"{ctx.trace_id:032x}" if ctx.trace_id else None


def decision_attributes(decision: Decision, cache_hit: bool) -> dict[str, Any]:
    """Span/metric attributes of a decision: counts and versions, nothing personal."""
    return {
        "credit_sdk.outcome": decision.outcome.value,
        "credit_sdk.subject_kind": str(decision.subject_kind),
        "credit_sdk.measures.restrictions": len(decision.restrictions),
        "credit_sdk.measures.incentives": len(decision.incentives),
        "credit_sdk.measures.held_for_review": len(decision.held_for_review),
        "credit_sdk.cache_hit": cache_hit,
        "credit_sdk.lists": [f"{lid}@{ver}" for lid, ver, _ in decision.provenance.lists],
        "credit_sdk.policy_profile": decision.provenance.policy_profile,
        "credit_sdk.flags": sorted(decision.flags),
    }


class Telemetry:
    """Spans, metrics and hooks for the client."""

    def __init__(self, hooks: Sequence[Hook] = (), *, enabled: bool = True) -> None:
        self.hooks = tuple(hooks)
        self.enabled = enabled
        self._tracer: Any = None
        self._checks: Any = None
        self._errors: Any = None
        self._duration: Any = None
        self._live = False
        self._next_probe = 0.0

    def _setup(self) -> None:
        from opentelemetry import metrics, trace

        self._tracer = trace.get_tracer("credit_sdk", __version__)
        meter = metrics.get_meter("credit_sdk", __version__)
        self._checks = meter.create_counter(
            "credit_sdk.checks", unit="{check}", description="checks by scenario and outcome"
        )
        self._errors = meter.create_counter(
            "credit_sdk.check.errors", unit="{check}", description="checks that raised"
        )
        self._duration = meter.create_histogram(
            "credit_sdk.check.duration", unit="s", description="duration of a check"
        )

    def _active(self) -> bool:
        """Whether the host configured an OpenTelemetry SDK (tracing or metrics).

        Without one every API call is a no-op; skipping them keeps a cached check cheap.
        """
        from opentelemetry import metrics, trace

        tracer_provider = trace.get_tracer_provider()
        meter_provider = metrics.get_meter_provider()
        return not (
            isinstance(tracer_provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
            and type(meter_provider).__name__ in ("_ProxyMeterProvider", "NoOpMeterProvider")
        )

    def live(self) -> bool:
        """Whether spans and metrics go anywhere; re-probed at most once a second until they
        do (a host may configure its SDK after building the client), then for good."""
        if not self.enabled:
            return False
        if self._live:
            return True
        now = time.monotonic()
        if now >= self._next_probe:
            self._next_probe = now + 1.0
            self._live = self._active()
        return self._live

    @contextmanager
    def check(self, scenario: str, name: str = "credit_sdk.check") -> Iterator[_Span]:
        """Wrap one check: a span, the duration histogram and the counters."""
        if not self.live():
            yield _Span(None)
            return
        if self._tracer is None:
            self._setup()
        start = time.perf_counter()
        with self._tracer.start_as_current_span(
            name, record_exception=False, set_status_on_exception=False
        ) as span:
            view = _Span(span)
            view.attributes["credit_sdk.scenario"] = scenario
            try:
                yield view
            except BaseException as err:
                attrs = {"credit_sdk.scenario": scenario, "error.type": type(err).__name__}
                self._errors.add(1, attrs)
                if view.recording:
                    from opentelemetry.trace import Status, StatusCode

                    span.set_attributes({**view.attributes, "error.type": type(err).__name__})
                    # The message could name a field; the type says enough for operators.
                    span.set_status(Status(StatusCode.ERROR, type(err).__name__))
                raise
            finally:
                elapsed = time.perf_counter() - start
                metric_attrs = {
                    k: v
                    for k, v in view.attributes.items()
                    if k in ("credit_sdk.scenario", "credit_sdk.outcome", "credit_sdk.cache_hit")
                }
                self._duration.record(elapsed, metric_attrs)
            self._checks.add(1, metric_attrs)
            if view.recording:
                span.set_attributes(view.attributes)

    # -- hooks: failures are logged, never raised into the host ---------------------------------

    def before(self, info: CheckInfo) -> None:
        for hook in self.hooks:
            try:
                hook.before(info)
            except Exception as err:
                _hook_failed(hook, "before", err)

    def after(self, info: CheckInfo, decision: Decision) -> None:
        for hook in self.hooks:
            try:
                hook.after(info, decision)
            except Exception as err:
                _hook_failed(hook, "after", err)

    def error(self, info: CheckInfo, error: BaseException) -> None:
        for hook in self.hooks:
            try:
                hook.error(info, error)
            except Exception as err:
                _hook_failed(hook, "error", err)


def _hook_failed(hook: Hook, phase: str, err: Exception) -> None:
    # The hook's message is foreign text: redact identifier-shaped tokens before logging.
    from credit_sdk._audit._types import redact_identifiers

    _log.error(
        "credit_sdk hook %s failed in %s(); ignored: %s: %s",
        type(hook).__name__,
        phase,
        type(err).__name__,
        redact_identifiers(str(err))[:300],
    )
