"""The profiler API for bench/tracing_overhead.py: `python bench/tracing_app.py off|on PORT`.
On, tracing is installed as a service process installs it (servicekit.tracing.install: batch
processor, SQL and httpx instrumentation), every span going to an exporter that drops it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from profiler.main import service
from servicekit import tracing
from servicekit.service import serve


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "on":
        tracing.install(DroppingExporter(), "profiler")
    serve(service.app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
