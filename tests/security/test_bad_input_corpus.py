"""One corpus of bad input against every operation of every service, found from the OpenAPI
documents: each case is a 4xx `application/problem+json`, never a 5xx.

The caller's own ids fill the paths (learned from their earlier answers), so a case reaches the
code behind the object, not only a 404 for an unknown one."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from journey_local.apps import documented_operations
from servicekit.api_caller import Caller, Request
from servicekit.openapi_walk import Operation

OPERATIONS = list(documented_operations())
NUL, SURROGATE, LONG = "a\x00b", "\ud800", "x" * 100_000
HUGE = "__huge_number__"
DEEP = 100_000  # nesting levels: past any recursive parser's limit


def _replace_strings(value: Any, new: Any) -> tuple[Any, bool]:
    """`value` with every string leaf replaced by `new`; whether any was."""
    if isinstance(value, str):
        return new, True
    if isinstance(value, dict):
        pairs = [(k, *_replace_strings(v, new)) for k, v in value.items()]
        return {k: v for k, v, _ in pairs}, any(hit for _, _, hit in pairs)
    if isinstance(value, list):
        items = [_replace_strings(v, new) for v in value]
        return [v for v, _ in items], any(hit for _, hit in items)
    return value, False


def _with_leaves(body: Any, new: Any) -> Any:
    replaced, hit = _replace_strings(body, new)
    if not hit:  # nothing to replace: add a member holding it
        return {**replaced, "extra": new} if isinstance(replaced, dict) else {"extra": new}
    return replaced


def _wrong_types(body: Any) -> Any:
    """Every member of the right shape swapped for one no declared type accepts."""
    if not isinstance(body, dict) or not body:
        return ["not", "an", "object"]
    return {k: ("a string" if isinstance(v, dict) else {"wrong": ["type"]}) for k, v in body.items()}


def body_cases(caller: Caller, op: Operation) -> Iterator[tuple[str, Request]]:
    good = caller.body(op)

    def raw(content: bytes, content_type: str = "application/json") -> Request:
        request = caller.request(op)
        request.content = content
        request.headers["Content-Type"] = content_type
        return request

    yield "NUL in strings", caller.request(op, body=_with_leaves(good, NUL))
    yield "lone surrogate in strings", caller.request(op, body=_with_leaves(good, SURROGATE))
    yield "over-long strings", caller.request(op, body=_with_leaves(good, LONG))
    yield "wrong types", caller.request(op, body=_wrong_types(good))
    yield "body not an object", caller.request(op, body=12345)
    deep = json.dumps(_with_leaves(good, HUGE)).replace(f'"{HUGE}"', "[" * DEEP + "]" * DEEP, 1)
    yield "deep nesting", raw(deep.encode())
    yield "deep nesting, whole body", raw(b"[" * DEEP + b"]" * DEEP)
    huge = json.dumps(_with_leaves(good, HUGE))
    yield "huge integer", raw(huge.replace(f'"{HUGE}"', "9" * 5000).encode())
    yield "huge float", raw(huge.replace(f'"{HUGE}"', "1e999999").encode())
    yield "empty body", raw(b"")
    yield "non-JSON body", raw(b"{not json")
    yield "NUL byte in raw JSON", raw(b'{"value": "\x00"}')
    yield "wrong content type", raw(json.dumps(good).encode(), "text/plain")
    yield "form instead of JSON", raw(b"value=x", "application/x-www-form-urlencoded")


def path_cases(caller: Caller, op: Operation) -> Iterator[tuple[str, Request]]:
    for name in op.path_params:
        yield f"%00 in {name}", caller.request(op, path={name: "a\x00b"})
        yield f"encoded lone surrogate in {name}", _raw_path(caller, op, name, "%ED%A0%80")
        yield f"over-long {name}", caller.request(op, path={name: "x" * 5000})
        yield f"wrong type {name}", caller.request(op, path={name: "{}"})


def _raw_path(caller: Caller, op: Operation, name: str, encoded: str) -> Request:
    request = caller.request(op)
    known = caller.ids(op.service)
    values = {p: known.get(p, "x") for p in op.path_params}
    request.url = op.url(values, raw={name: encoded})
    return request


def query_cases(caller: Caller, op: Operation) -> Iterator[tuple[str, Request]]:
    names = [p["name"] for p in op.params("query")] or ["q"]
    for name in names:
        request = caller.request(op)
        request.url += f"?{name}=a%00b"
        yield f"%00 in query {name}", request


def header_cases(caller: Caller, op: Operation) -> Iterator[tuple[str, Request]]:
    for param in op.params("header"):
        if param["schema"].get("maxLength") is not None:
            request = caller.request(op)
            request.headers[param["name"]] = "x" * (param["schema"]["maxLength"] + 1)
            yield f"over-long header {param['name']}", request


def corpus(caller: Caller, op: Operation) -> Iterator[tuple[str, Request]]:
    if op.body_schema is not None:
        yield from body_cases(caller, op)
    yield from path_cases(caller, op)
    yield from query_cases(caller, op)
    yield from header_cases(caller, op)


def test_the_corpus_reaches_every_kind_of_input() -> None:
    assert OPERATIONS
    assert any(op.body_schema is not None for op in OPERATIONS)
    assert any(op.path_params for op in OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
async def test_bad_input_is_a_4xx_problem(
    op: Operation,
    new_caller: Callable[[str], Awaitable[Caller]],
    send: Callable[[Operation, Request], Awaitable[Any]],
) -> None:
    caller = await new_caller("corpus")
    failures = []
    cases = list(corpus(caller, op))
    assert cases
    for case, request in cases:
        response = await send(op, request)
        content_type = response.headers.get("content-type")
        if not (400 <= response.status_code < 500 and content_type == "application/problem+json"):
            failures.append(f"{case}: {response.status_code} {content_type} {response.text[:150]!r}")
    assert not failures, f"{op}:\n" + "\n".join(failures)
