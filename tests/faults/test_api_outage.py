"""The API during and after a PostgreSQL outage: 503 problem+json with Retry-After while the
database is down, and no failed request once it is back (stale pooled connections are
replaced, not handed to a client)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from servicekit.testing import eventually

B = "/api/v1/profiler"


async def test_the_api_answers_503_while_the_database_is_down_then_recovers(
    faults: Any, api: httpx.AsyncClient, students: Any
) -> None:
    headers = students.headers("outage-reader")
    assert (await api.get(f"{B}/questions", headers=headers)).status_code == 200
    await faults.stop_postgres()
    for path in (f"{B}/questions", f"{B}/personas/current"):
        response = await api.get(path, headers=headers)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["status"] == 503
    started = await api.post(f"{B}/sessions", headers=headers)
    assert started.status_code == 503, started.text
    assert (await api.get("/readyz")).status_code == 503

    await faults.start_postgres()

    async def serving() -> bool:
        return (await api.get(f"{B}/questions", headers=headers)).status_code == 200

    await eventually(serving, within=15)
    assert (await api.post(f"{B}/sessions", headers=headers)).status_code == 201


async def test_no_request_fails_after_the_database_restarts(faults: Any, api: httpx.AsyncClient, students: Any) -> None:
    headers = students.headers("restart-reader")
    # Several requests at once leave several connections in the pool.
    warm = await asyncio.gather(*(api.get(f"{B}/questions", headers=headers) for _ in range(6)))
    assert [r.status_code for r in warm] == [200] * 6
    # Restarted with no request in between: every pooled connection is now dead.
    await faults.stop_postgres()
    await faults.start_postgres()
    first = await api.get(f"{B}/questions", headers=headers)
    assert first.status_code == 200, first.text
    more = await asyncio.gather(*(api.get(f"{B}/questions", headers=headers) for _ in range(6)))
    assert [r.status_code for r in more] == [200] * 6


async def test_the_direct_path_serves_the_first_request_after_a_long_outage(
    faults: Any, api: httpx.AsyncClient, students: Any
) -> None:
    """The direct path's own pool (servicekit.direct) reconnects in the background, and psycopg_pool
    backs its tries off (1, 2, 4, 8, 16 s apart): after an outage of some seconds its next try came
    long after the database was back, so GET /personas/current stayed 503 while ORM routes served."""
    headers = students.headers("long-outage")
    path = f"{B}/personas/current"
    assert (await api.get(path, headers=headers)).status_code == 404  # served: no persona yet
    await faults.stop_postgres()
    assert (await api.get(path, headers=headers)).status_code == 503
    await asyncio.sleep(12)  # the pool keeps trying meanwhile, further and further apart
    await faults.start_postgres()
    first = await api.get(path, headers=headers)
    assert first.status_code == 404, first.text
