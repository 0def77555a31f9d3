"""OpenTelemetry traces across requests and events: exported over OTLP when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, off otherwise.

Off costs nothing measurable: no tracer provider is installed (FastAPI's own telemetry then stays
out of the way), no SQL or HTTP client instrumentation is installed, and the kit's spans (relay
publish, consumer handling) are skipped after one flag check.

On, one trace follows a request: FastAPI's server span (it continues an incoming `traceparent`,
e.g. the gateway's), the SQL statements of its transaction, the event it emits (the envelope's
`traceparent` is then the span that emitted it), the relay's publish (which passes its own
context on in the message's `traceparent` header) and each consumer's handling, whose own events
carry the trace further."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.trace import SpanKind as SpanKind  # re-exported: services name kinds through the kit
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER_NAME = "servicekit"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class _State:
    on = False
    provider: Any = None  # the SDK's TracerProvider once tracing was first enabled


def active() -> bool:
    return _State.on


def endpoint_configured(environ: Mapping[str, str] = os.environ) -> bool:
    return any(environ.get(name) for name in ENDPOINT_VARIABLES)


def enable(processor: Any, service_name: str = "journey") -> None:
    """Install the tracer provider (once per process) with `processor`, and switch tracing on.
    The OTLP exporter in production (`configure_from_env`); an in-memory exporter in tests."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    if _State.provider is None:
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}), sampler=_switch())
        trace.set_tracer_provider(provider)
        _State.provider = provider
    _State.provider.add_span_processor(processor)
    _State.on = True


def disable() -> None:
    """Stop recording (tests): OpenTelemetry's global provider cannot be unset, so the kit's
    sampler drops every span from now on and the kit's own spans are skipped."""
    _State.on = False


def configure_from_env(service_name: str) -> bool:
    """For a service process: tracing on, exported over OTLP/HTTP, when the endpoint is set."""
    if not endpoint_configured():
        return False
    if _State.on:
        return True
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    install(OTLPSpanExporter(), os.environ.get("OTEL_SERVICE_NAME") or service_name)
    return True


def install(exporter: Any, service_name: str) -> None:
    """Tracing as a service process runs it: spans batched to `exporter` off the event loop, and
    the SQL and HTTP client instrumentations. Engines made from now on trace their statements
    (servicekit.db.create_engine looks the factory up at call time); httpx clients (the OpenAI
    SDK) their requests."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    enable(BatchSpanProcessor(exporter), service_name)
    SQLAlchemyInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()


def _switch() -> Any:
    """The provider's sampler: parent-based, always on while the kit's switch is on."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult

    class Switch(Sampler):
        def __init__(self) -> None:
            self.delegate = ParentBased(ALWAYS_ON)

        def should_sample(
            self,
            parent_context: Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Any = None,
            links: Sequence[Any] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if not _State.on:
                return SamplingResult(Decision.DROP)
            return self.delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return "JourneySwitch(ParentBased(AlwaysOn))"

    return Switch()


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the active span, for the events it emits; None when off or none."""
    if not _State.on:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the active span's `traceparent` to outgoing message headers."""
    _PROPAGATOR.inject(headers)


@contextmanager
def span(
    name: str,
    *,
    parent: str | None,
    kind: SpanKind,
    attributes: Mapping[str, str | int] | None = None,
    current: bool = True,
) -> Iterator[Span | None]:
    """A span continuing the `parent` traceparent (a new trace without one); None when off.
    `current=False` leaves the context alone: for a span held across a generator's `yield`,
    where the code that runs between belongs to the caller, not to the span."""
    if not _State.on:
        yield None
        return
    context = _PROPAGATOR.extract({"traceparent": parent}) if parent else None
    tracer = trace.get_tracer(_TRACER_NAME)
    if not current:
        detached = tracer.start_span(name, context=context, kind=kind, attributes=dict(attributes or {}))
        try:
            yield detached
        finally:
            detached.end()
        return
    with tracer.start_as_current_span(name, context=context, kind=kind, attributes=dict(attributes or {})) as active:
        yield active


def add_trace_ids(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` of the active span on every log line."""
    if _State.on:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event_dict["trace_id"] = f"{context.trace_id:032x}"
            event_dict["span_id"] = f"{context.span_id:016x}"
    return event_dict
