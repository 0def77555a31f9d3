"""A test user who walks the services' APIs from their OpenAPI documents: well-formed requests
with the user's own ids where known (learned from earlier answers), schema examples elsewhere."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from servicekit.auth import dev_user_id, mint_dev_token
from servicekit.openapi_walk import Operation, example
from servicekit.settings import ServiceSettings


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


Send = Callable[[Operation, Request], Awaitable[httpx.Response]]


class Caller:
    def __init__(self, label: str, settings: ServiceSettings, operations: Sequence[Operation]) -> None:
        self.operations = operations
        self.name = f"{label}-{uuid.uuid4().hex[:10]}"
        self.user_id = dev_user_id(self.name)
        self.token = mint_dev_token(settings, self.name)
        # Per service: one name can mean different things (profiler's and billing's session_id).
        self._ids: dict[str, dict[str, str]] = {}

    def ids(self, service: str) -> dict[str, str]:
        """What this user knows in `service`, by parameter name (their own user id included)."""
        return {"user_id": str(self.user_id), **self._ids.get(service, {})}

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, op: Operation, *, path: dict[str, str] | None = None, body: Any = None) -> Request:
        """A well-formed request for `op` as this user; `path` overrides parameter values."""
        known = self.ids(op.service)
        values = {p["name"]: known.get(p["name"]) or str(example(op.document, p["schema"])) for p in op.params("path")}
        headers = {p["name"]: str(example(op.document, p["schema"])) for p in op.params("header") if p.get("required")}
        request = Request(op.method, op.url({**values, **(path or {})}), {**self.auth, **headers})
        if op.body_schema is not None:
            request.content = json.dumps(self.body(op) if body is None else body).encode()
            request.headers["Content-Type"] = "application/json"
        return request

    def body(self, op: Operation) -> Any:
        assert op.body_schema is not None
        value = example(op.document, op.body_schema)
        known = self.ids(op.service)
        if isinstance(value, dict):  # a property named like a learned id takes it (plan_id, …)
            value.update({name: known[name] for name in op.body_schema.get("properties", {}) if name in known})
        return value

    async def produce(self, send: Send) -> None:
        """Call every operation without path parameters, reads first, and learn the ids. Writes
        that failed run once more: one may need an id only a later write gives (a habit linked
        to a goal)."""
        producers = sorted((op for op in self.operations if not op.path_params), key=lambda op: op.method != "GET")
        failed = [op for op in producers if not await self._produce_one(send, op)]
        for op in failed:
            if op.method != "GET":
                await self._produce_one(send, op)
        # Then what is made under a shared entry the walk now knows (start a catalogue mission).
        for op in self.operations:
            if op.method == "POST" and op.path_params and not op.owned_path_params and op.body_schema is None:
                if all(name in self.ids(op.service) for name in op.path_params):
                    await self._produce_one(send, op)

    async def _produce_one(self, send: Send, op: Operation) -> bool:
        response = await send(op, self.request(op))
        if response.is_success and response.headers.get("content-type", "").startswith("application/json"):
            self.learn(op, response.json())
        return response.is_success

    def learn(self, op: Operation, payload: Any) -> None:
        """Ids from an answer: `*_id` fields, `id` under a collection path (also as the parameter
        that follows that path elsewhere: an id listed at /catalog is the one in
        /catalog/{mission_id}), path values inside URLs."""
        collection = [s for s in op.path.split("/") if s and "{" not in s][-1].removesuffix("s")
        learned = self._ids.setdefault(op.service, {})
        if not op.path_params:
            for other in self.operations:
                rest = other.path.removeprefix(op.path + "/")
                if other.service == op.service and rest != other.path and rest.startswith("{"):
                    item_id = _first_id(payload)
                    if item_id is not None:
                        learned.setdefault(rest[1:].split("}")[0], item_id)
        stack = [payload]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)  # popped last first: paid plans come after the free one
            elif isinstance(item, dict):
                for key, value in item.items():
                    if isinstance(value, dict | list):
                        stack.append(value)
                    elif key == "id" and value is not None:
                        learned.setdefault(f"{collection}_id", str(value))
                    elif key.endswith("_id") and value is not None:
                        learned.setdefault(key, str(value))
                    elif isinstance(value, str) and "/api/" in value:
                        self._learn_path(urlsplit(value).path)

    def _learn_path(self, path: str) -> None:
        """The path parameters of a URL to one of the operations (a checkout page, a persona)."""
        for op in self.operations:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
            match = re.fullmatch(pattern, path)
            if match:
                values = {k: v for k, v in match.groupdict().items() if k != "user_id"}
                self._ids.setdefault(op.service, {}).update(values)
                return


def _first_id(payload: Any) -> str | None:
    """The `id` of an answer, or of the first item of a listed page."""
    if isinstance(payload, dict):
        items = payload.get("items")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            payload = items[0]
        value = payload.get("id") if isinstance(payload, dict) else None
        return str(value) if value is not None else None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and payload[0].get("id") is not None:
        return str(payload[0]["id"])
    return None
