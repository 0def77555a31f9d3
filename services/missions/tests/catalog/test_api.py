from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from missions.catalog.content import CATALOG
from servicekit.testing import problem

B = "/api/v1/missions"


async def _all(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{B}/catalog", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_the_seeded_catalogue_pages_through_every_live_mission(
    client: httpx.AsyncClient, student: Callable[..., Any]
) -> None:
    items = await _all(client, student().headers)
    assert len(items) == len(CATALOG) >= 24
    assert [m["id"] for m in items] == sorted(m.id for m in CATALOG)
    assert {m["skill"] for m in items} >= {"research", "writing", "coding", "design", "wellbeing", "career"}
    for mission in items:
        criteria = mission["rubric"]["criteria"]
        assert 3 <= len(criteria) <= 5
        assert abs(sum(c["weight"] for c in criteria) - 1) < 1e-9
        assert all(len(c["levels"]) == 4 for c in criteria)
        assert mission["steps"]
        assert mission["brief"]
        assert mission["traits"]
        assert mission["deliverables"]


async def test_filters_by_tag_difficulty_and_duration(client: httpx.AsyncClient, student: Callable[..., Any]) -> None:
    headers = student().headers
    science = await _all(client, headers, tag="science")
    assert science
    assert all("science" in m["tags"] for m in science)
    assert len(science) == sum("science" in m.tags for m in CATALOG)
    hard = await _all(client, headers, difficulty_min=4)
    assert hard
    assert all(m["difficulty"] >= 4 for m in hard)
    quick_easy = await _all(client, headers, difficulty_max=2, max_minutes=60)
    assert quick_easy
    assert all(m["difficulty"] <= 2 and m["estimated_minutes"] <= 60 for m in quick_easy)
    coding = await _all(client, headers, skill="coding")
    assert {m["skill"] for m in coding} == {"coding"}


async def test_bad_filters_are_422_naming_the_field(client: httpx.AsyncClient, student: Callable[..., Any]) -> None:
    headers = student().headers
    for params, field in (
        ({"difficulty_min": 9}, "difficulty_min"),
        ({"tag": "Not A Tag"}, "tag"),
        ({"limit": 0}, "limit"),
    ):
        body = problem(await client.get(f"{B}/catalog", params=params, headers=headers), 422)
        assert field in body["detail"]
    problem(await client.get(f"{B}/catalog", params={"cursor": "%%%"}, headers=headers), 400)


async def test_the_catalogue_needs_a_token(client: httpx.AsyncClient) -> None:
    problem(await client.get(f"{B}/catalog"), 401)
