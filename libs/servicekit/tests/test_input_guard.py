"""Strings PostgreSQL cannot store never reach a handler: 422 naming the field, from any app
the factory builds; and every 500 still carries the request id."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from servicekit.app import create_app
from servicekit.settings import ServiceSettings
from servicekit.testing import app_client
from servicekit.text_guard import Visible, isolated


class Answer(BaseModel):
    value: str | list[str] | dict[str, str]


router = APIRouter()
seen: list[object] = []


@router.put("/answers/{answer_id}")
async def put_answer(answer_id: str, body: Answer, q: str | None = None) -> dict[str, object]:
    seen.append(body.value)
    return {"id": answer_id, "value": body.value, "q": q}


@router.post("/raw")
async def raw(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}  # takes exact bytes: the route judges them


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service_name="guarded", environment="test")
    async with app_client(create_app(settings, [router])) as c:
        yield c


def _json(text: str) -> dict[str, str]:
    return {"content-type": "application/json", "x-body": text[:0]}


@pytest.mark.parametrize(
    ("raw_body", "field", "reason"),
    [
        ('{"value": "robots\\u0000farmers"}', "value", "NUL"),
        ('{"value": "\\u0000"}', "value", "NUL"),
        ('{"value": "abc\\ud800def"}', "value", "surrogate"),
        ('{"value": "\\udfff"}', "value", "surrogate"),
        ('{"value": ["ok", "bad\\u0000"]}', "value.1", "NUL"),
        ('{"value": {"k\\u0000": "v"}}', "value.k?", "NUL"),
        ('{"value": "x", "extra\\ud800": 1}', "extra?", "surrogate"),
    ],
)
async def test_unstorable_body_strings_are_422_naming_the_field(
    client: httpx.AsyncClient, raw_body: str, field: str, reason: str
) -> None:
    before = len(seen)
    response = await client.put("/api/v1/guarded/answers/a1", content=raw_body, headers=_json(raw_body))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert reason in problem["errors"][0]["message"]
    assert response.headers["x-request-id"]
    assert len(seen) == before  # the handler never ran


async def test_a_valid_surrogate_pair_is_ordinary_text(client: httpx.AsyncClient) -> None:
    body = '{"value": "smile \\ud83d\\ude00"}'
    response = await client.put("/api/v1/guarded/answers/a1", content=body, headers=_json(body))
    assert response.status_code == 200
    assert response.json()["value"] == "smile \U0001f600"


async def test_a_second_content_type_header_does_not_slip_past_the_guard(client: httpx.AsyncClient) -> None:
    """The framework parses by the first Content-Type; the guard must judge by that one too."""
    body = '{"value": "robots\\u0000farmers"}'
    before = len(seen)
    headers = [("content-type", "application/json"), ("content-type", "text/plain")]
    response = await client.put("/api/v1/guarded/answers/a1", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "value"
    assert len(seen) == before


async def test_over_deep_json_is_422_not_a_recursion_error(client: httpx.AsyncClient) -> None:
    for depth in (40, 5000):
        body = '{"value": ' + "[" * depth + "]" * depth + "}"
        response = await client.put("/api/v1/guarded/answers/a1", content=body, headers=_json(body))
        assert response.status_code == 422, depth
        assert "deeper" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/guarded/answers/cus%00x", "path"),
        ("/api/v1/guarded/answers/a1?q=x%00y", "query.q"),
        ("/api/v1/guarded/answers/a1?q%00=1", "query.q?"),
        ("/api/v1/guarded/answers/%ED%A0%80", None),  # undecodable bytes are replaced, never stored raw
    ],
)
async def test_nul_in_path_and_query_is_422(client: httpx.AsyncClient, url: str, field: str | None) -> None:
    response = await client.put(url, json={"value": "ok"})
    if field is None:
        assert response.status_code in (200, 404, 422)
        assert "\ud800" not in json.dumps(response.json(), ensure_ascii=False)
        return
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_raw_body_routes_judge_their_own_bytes(client: httpx.AsyncClient) -> None:
    body = '{"id": "evt\\u0000"}'
    response = await client.post("/api/v1/guarded/raw", content=body, headers=_json(body))
    assert response.json() == {"bytes": len(body)}


async def test_a_500_carries_the_request_id_and_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/guarded/boom", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["detail"] == "internal error"


async def test_the_guards_422_has_the_frameworks_shape(client: httpx.AsyncClient) -> None:
    """Found by an attack round: the guard said "Unprocessable Content" with no `instance`, the
    framework "Unprocessable Entity" with one. A client sees one shape per status."""
    path = "/api/v1/guarded/answers/a1"
    guarded = await client.put(path, content='{"value": "\\u0000"}', headers=_json(""))
    invalid = await client.put(path, content='{"value": 5}', headers=_json(""))
    assert guarded.status_code == invalid.status_code == 422
    shapes = [{k: r.json()[k] for k in ("type", "title", "status", "instance")} for r in (guarded, invalid)]
    assert (
        shapes[0]
        == shapes[1]
        == {"type": "about:blank", "title": "Unprocessable Content", "status": 422, "instance": path}
    )


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        *[("Read", True), ("📚", True), ("\u0627", True), ("\u0301", True), ("\U0001faea", True), ("", True)],
        *[("\u200b", False), ("\u200d\u2060", False), ("\u202e\u200f", False), ("\u3000", False)],
        # Found by an attack round: letters and marks that draw nothing (Hangul fillers, variation
        # selectors, the grapheme joiner) and the braille blank passed as "visible".
        *[("\u3164", False), ("\u115f\u1160", False), ("\uffa0", False), ("\u2800", False)],
        *[("\ufe0f", False), ("\U000e0100", False), ("\u034f", False), ("\u180b", False), ("\u17b4", False)],
        *[("\u3164\u0301", True), ("\u2764\ufe0f", True)],
    ],
)
def test_a_label_must_show_something(text: str, visible: bool) -> None:
    label = TypeAdapter(Annotated[str, Visible])
    if visible:
        assert label.validate_python(text) == text
    else:
        with pytest.raises(ValidationError, match="no visible character"):
            label.validate_python(text)


@pytest.mark.parametrize("text", ["a\nb", "a\r", "a\tb", "a\u2028b", "a\u2029b", "a\x1cb", "a\x85b", "\x07"])
def test_a_label_is_one_line_without_control_characters(text: str) -> None:
    """Found by an attack round: goal titles with a newline, a paragraph separator or a control
    character inside were stored, in labels shown on one line."""
    with pytest.raises(ValidationError, match="one line"):
        TypeAdapter(Annotated[str, Visible]).validate_python(text)


def test_text_that_changes_direction_is_isolated_and_other_text_left_alone() -> None:
    assert isolated("Read") == "Read"
    assert isolated("📚 Read") == "📚 Read"
    assert isolated("\u202eRead") == "\u2068\u202eRead\u2069"
    hebrew = "\u05e7\u05e8\u05d9\u05d0\u05d4"  # a right-to-left word
    assert isolated(hebrew) == f"\u2068{hebrew}\u2069"


def _isolates_close_where_they_open(sentence: str) -> bool:
    """True when every isolate in `sentence` closes inside the paragraph it opened in and no PDI
    closes one opened before it: what UAX #9 needs for nothing to reach past a name."""
    depth = 0
    for char in sentence:
        kind = unicodedata.bidirectional(char)
        if kind in ("LRI", "RLI", "FSI"):
            depth += 1
        elif kind == "PDI":
            depth -= 1
            if depth < 0:
                return False
        elif kind == "B" and depth:
            return False
    return depth == 0


@pytest.mark.parametrize(
    "name",
    [
        "x\u2069\u202eabc",  # a PDI of its own would close the isolate early; the override stays open
        "\u05d0\u2067",  # an isolate left open swallows the closing PDI and the rest of the sentence
        "\u2067\u2067\u202eabc\u2069",
        "a\u2029\u202eb",  # a paragraph separator ends the isolate with the paragraph
        "\u2069\u2069\u2066\u2068\u05d0\u202b",
    ],
)
def test_an_unbalanced_isolate_in_a_name_cannot_reach_past_it(name: str) -> None:
    """Found by an attack round: "Checked in ⁨x⁩‮abc⁩ for 2026-11-26 (streak 1 day)" showed in
    Chromium as "Checked in x(yad 1 kaerts) 62-11-6202 rof cba"."""
    text = isolated(name)
    assert text.startswith("\u2068")
    assert text.endswith("\u2069")
    assert _isolates_close_where_they_open(f"Checked in {text} for 2026-11-26")
    # what the student typed is still there, but for unbalanced PDIs and a paragraph break (a space)
    typed = "".join(" " if unicodedata.bidirectional(c) == "B" else c for c in name)
    assert text[1:-1].replace("\u2069", "") == typed.replace("\u2069", "")
