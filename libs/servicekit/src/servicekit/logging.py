"""structlog JSON logging with the request id bound per request."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog

from servicekit.tracing import add_trace_ids


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route stdlib and structlog output through one JSON renderer on stdout."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=structlog.processors.JSONRenderer(), foreign_pre_chain=shared)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True  # the gateway writes access logs


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


def loggable_path(scope: Mapping[str, Any]) -> str:
    """The request path for a log line, each path parameter's value replaced by `{name}`.

    Ids in a path can be credentials (the local payment provider's capability URLs), and the
    request id already leads from the log line to the request. Before routing there are no
    parameters to hide and the path is logged as it came."""
    path = str(scope.get("path", ""))
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    if not names:
        return path
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in path.split("/"))
