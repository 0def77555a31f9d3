"""The operations of an OpenAPI document and example values built from their schemas, so tests
and fuzzing cover every operation a service declares, new ones included, with no hand-kept list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from servicekit.openapi import SHARED_ID

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    service: str
    method: str  # upper case
    path: str  # the template, e.g. /api/v1/profiler/sessions/{session_id}
    spec: dict[str, Any]
    document: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def public(self) -> bool:
        return not self.spec.get("security")

    def params(self, location: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == location]

    @property
    def streams_events(self) -> bool:
        """Its success answer is a Server-Sent Events stream, which stays open."""
        content = self.spec.get("responses", {}).get("200", {}).get("content", {})
        return "text/event-stream" in content

    @property
    def owned_path_params(self) -> list[str]:
        """Path parameters naming the caller's own objects (not shared reference ids)."""
        shared = {p["name"] for p in self.params("path") if resolve(self.document, p.get("schema", {})).get(SHARED_ID)}
        return [name for name in self.path_params if name not in shared]

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.params("path")]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        """The JSON request body's schema, when the operation takes one."""
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return resolve(self.document, media.get("schema", {})) if media is not None else None

    def url(self, values: Mapping[str, str], *, raw: Mapping[str, str] | None = None) -> str:
        """The path with `values` percent-encoded and `raw` inserted as given (already encoded)."""
        path = self.path
        for name in self.path_params:
            value = raw[name] if raw and name in raw else quote(values[name], safe="")
            path = path.replace("{" + name + "}", value)
        return path


def operations(service: str, document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(service, method.upper(), path, item[method], document)
        for path, item in document.get("paths", {}).items()
        for method in _METHODS
        if method in item
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def example(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A small value the schema accepts: documented examples first, then the type's simplest value."""
    schema = resolve(document, schema)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    for key in ("example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    for key in ("anyOf", "oneOf"):
        options = [s for s in schema.get(key, []) if resolve(document, s).get("type") != "null"]
        if options:
            return example(document, options[0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: example(document, properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [example(document, schema.get("items", {})) for _ in range(max(schema.get("minItems", 1), 1))]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return datetime.now(UTC).isoformat()
    return "x" * max(schema.get("minLength", 1), 1)
