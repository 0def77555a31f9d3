"""The question bank through the API."""

from __future__ import annotations

import httpx

from servicekit.testing import Users

B = "/api/v1/profiler"


async def test_questions_are_listed_in_order(client: httpx.AsyncClient, users: Users) -> None:
    response = await client.get(f"{B}/questions", headers=users.headers(users.new()))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert len(body["items"]) >= 12
    first = body["items"][0]
    assert first["id"] == "values_core"
    assert first["kind"] == "multiple_choice"
    assert first["options"][0] == {"value": "curiosity", "label": "Curiosity"}
    scale = next(q for q in body["items"] if q["kind"] == "scale")
    assert scale["scale_min"] < scale["scale_max"]
