"""The event catalogue in docs/events.md, generated from the payload classes in libs/contracts
and the subscriptions of every service definition, so the document cannot drift from the code.

    python -m journey_local events-doc          # rewrite docs/events.md below the marker
"""

from __future__ import annotations

import inspect
import types
import typing
import uuid
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.payload import EventPayload, all_payloads
from journey_local.services import SERVICES
from servicekit.events.streams import stream_name

DOC = Path(__file__).resolve().parents[4] / "docs" / "events.md"
MARKER = "<!-- Generated from libs/contracts and the service definitions: `python -m journey_local events-doc`. -->"
# Enough to build every service's subscriptions without a running stack.
_DOC_SETTINGS = {"environment": "test", "jwt_secret": "d" * 32, "stripe_webhook_secret": "whsec_catalogue"}


def type_name(annotation: Any) -> str:
    if annotation is uuid.UUID:
        return "UUID"
    if annotation is datetime:
        return "RFC 3339 timestamp"
    if annotation is date:
        return "date (YYYY-MM-DD)"
    if annotation in (str, int, bool, float):
        return {str: "string", int: "int", bool: "bool", float: "number"}[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list[{type_name(args[0])}]"
    if origin in (typing.Union, types.UnionType):
        named = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) + (" or null" if type(None) in args else "")
    return getattr(annotation, "__name__", str(annotation))


def consumers() -> dict[str, list[tuple[str, str]]]:
    """Subject → (service, durable) of every subscription of every service."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for definition in SERVICES:
        for subscription in definition.subscriptions(definition.settings(**_DOC_SETTINGS)):
            found[subscription.filter_subject].append((definition.name, subscription.durable))
    return found


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself, or inside `X | None`), if it is one."""
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _field_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    """One row per field; a nested model's fields follow as `parent.child` rows."""
    rows = []
    for name, field in model.model_fields.items():
        required = "yes" if field.is_required() else "no"
        meaning = " ".join((field.description or "").split())
        rows.append(f"| `{prefix}{name}` | {type_name(field.annotation)} | {required} | {meaning} |")
        nested = _nested_model(field.annotation)
        if nested is not None:
            rows += _field_rows(nested, f"{prefix}{name}.")
    return rows


def _section(payload: type[EventPayload], consumed_by: list[tuple[str, str]]) -> list[str]:
    lines = [
        f"### `{payload.SUBJECT}`",
        "",
        f"Version {payload.VERSION}. Producer: {payload.service()} (stream `{stream_name(payload.service())}`). "
        f"Payload: `{payload.__module__}.{payload.__name__}`.",
        "",
        *(" ".join(p.split()) + "\n" for p in inspect.cleandoc(payload.__doc__ or "").split("\n\n")),
        "| field | type | required | meaning |",
        "|---|---|---|---|",
    ]
    lines += _field_rows(payload)
    names = ", ".join(f"`{durable}` ({service})" for service, durable in sorted(consumed_by)) or "none yet"
    return [*lines, "", f"Consumers: {names}.", ""]


def render() -> str:
    by_subject = consumers()
    lines = [MARKER, "", "## Catalogue", ""]
    for payload in all_payloads():
        lines += _section(payload, by_subject.get(payload.SUBJECT, []))
    return "\n".join(lines).rstrip() + "\n"


def document(current: str) -> str:
    """`current` with everything from the marker on replaced by the generated catalogue."""
    head = current.split(MARKER, 1)[0]
    return head + render()


def write() -> bool:
    """Rewrite docs/events.md; True when it changed."""
    current = DOC.read_text()
    updated = document(current)
    if updated != current:
        DOC.write_text(updated)
    return updated != current
