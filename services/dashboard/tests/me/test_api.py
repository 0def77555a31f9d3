"""GET /me and POST /me/refresh against real PostgreSQL and NATS: events in, snapshot out."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from dashboard.testing import at, session_completed, tier_changed
from servicekit.testing import eventually, problem

ME = "/api/v1/dashboard/me"


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(ME, headers=headers)


async def test_a_new_student_gets_version_zero(client: httpx.AsyncClient, users: Any) -> None:
    response = await _me(client, users.headers(users.new()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["plan"]["tier"], body["next_step"]["kind"]) == (0, "free", "start_questionnaire")
    assert response.headers["etag"] == '"0"'


async def test_tier_changed_reaches_get_me_with_an_etag(
    client: httpx.AsyncClient, users: Any, publish: Any, worker: Any, scheduler: Any
) -> None:
    name = users.new()
    headers, user_id = users.headers(name), users.id(name)
    await publish(tier_changed("plus", when=at(1)), user_id, time=at(1))

    async def upgraded() -> httpx.Response | None:
        response = await _me(client, headers)
        return response if response.json()["plan"]["tier"] == "plus" else None

    response = await eventually(upgraded, within=10)
    body = response.json()
    assert body["user_id"] == str(user_id)
    assert body["version"] >= 1
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert set(body["lag"]) <= {"PROFILER", "BILLING", "MISSIONS", "COACHING"}
    assert body["timeline"][0]["text"] == "Upgraded from Free to Plus (subscription active)"

    unchanged = await client.get(ME, headers={**headers, "If-None-Match": response.headers["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == response.headers["etag"]
    stale = await client.get(ME, headers={**headers, "If-None-Match": '"0"'})
    assert stale.status_code == 200

    # An older change delivered later never moves the tier back.
    await publish(tier_changed("free", "plus", when=at(0)), user_id, time=at(0))
    await publish(session_completed(), user_id, time=at(2))

    async def both_applied() -> dict[str, Any] | None:
        body = (await _me(client, headers)).json()
        return body if len(body["timeline"]) == 3 else None

    final = await eventually(both_applied, within=10)
    assert final["plan"]["tier"] == "plus"


async def test_a_redelivered_event_is_applied_once(
    client: httpx.AsyncClient, users: Any, publish: Any, worker: Any, scheduler: Any
) -> None:
    name = users.new()
    headers, user_id = users.headers(name), users.id(name)
    first = await publish(session_completed(), user_id, time=at(1))
    # The same event under another message id: JetStream cannot de-duplicate it, the inbox must.
    await publish(session_completed(), user_id, event=first, msg_id=f"again-{first.id}")
    marker = await publish(tier_changed("pro", when=at(2)), user_id, time=at(2))

    async def settled() -> dict[str, Any] | None:
        # Each type has its own consumer: the tier may be shown before the questionnaire is.
        body = (await _me(client, headers)).json()
        kinds = {e["kind"] for e in body["timeline"]}
        return body if body["plan"]["tier"] == "pro" and "questionnaire" in kinds else None

    body = await eventually(settled, within=10)
    assert [e["kind"] for e in body["timeline"]] == ["tier", "questionnaire"]
    assert marker.id != first.id


async def test_users_never_see_each_other(
    client: httpx.AsyncClient, users: Any, publish: Any, worker: Any, scheduler: Any
) -> None:
    ada, bob = users.new("ada"), users.new("bob")
    await publish(tier_changed("pro"), users.id(ada))

    async def ada_is_pro() -> bool:
        return bool((await _me(client, users.headers(ada))).json()["plan"]["tier"] == "pro")

    await eventually(ada_is_pro, within=10)
    bobs = (await _me(client, users.headers(bob))).json()
    assert bobs["user_id"] == str(users.id(bob))
    assert bobs["plan"]["tier"] == "free"
    problem(await client.get(ME), 401)


async def test_refresh_is_rate_limited_per_user(client: httpx.AsyncClient, users: Any, scheduler: Any) -> None:
    name, other = users.new(), users.new()
    accepted = await client.post(f"{ME}/refresh", headers=users.headers(name))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "queued"
    refused = problem(await client.post(f"{ME}/refresh", headers=users.headers(name)), 429)
    assert "refreshed less than" in refused["detail"]
    again = await client.post(f"{ME}/refresh", headers=users.headers(name))
    assert 1 <= int(again.headers["retry-after"]) <= 2
    assert (await client.post(f"{ME}/refresh", headers=users.headers(other))).status_code == 202

    async def written() -> bool:
        return bool((await _me(client, users.headers(name))).json()["version"] == 1)

    await eventually(written, within=10)  # recomputed from (no) facts: version 1


async def test_bad_if_none_match_and_unknown_users_are_harmless(client: httpx.AsyncClient, users: Any) -> None:
    headers = users.headers(users.new())
    assert (await client.get(ME, headers={**headers, "If-None-Match": 'W/"x", *'})).status_code == 304
    problem(await client.get(ME, headers={**headers, "If-None-Match": "x" * 600}), 422)
    assert uuid.UUID((await _me(client, headers)).json()["user_id"])
