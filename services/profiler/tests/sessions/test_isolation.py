"""Row-level security is the isolation boundary: another user's rows do not exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg

from profiler.settings import ProfilerSettings
from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/profiler"


async def _ada_with_persona(client: httpx.AsyncClient, users: Users, questionnaire: Any) -> tuple[str, str]:
    ada = users.new("ada")
    session_id = await questionnaire.completed_session(users.headers(ada))

    async def ready() -> bool:
        url = f"{B}/sessions/{session_id}/persona"
        return (await client.get(url, headers=users.headers(ada))).status_code == 200

    await eventually(ready)
    return ada, session_id


async def test_another_users_session_and_persona_are_404(
    client: httpx.AsyncClient, users: Users, questionnaire: Any, worker: Worker
) -> None:
    _, session_id = await _ada_with_persona(client, users, questionnaire)
    bob = users.headers(users.new("bob"))
    for response in (
        await client.get(f"{B}/sessions/{session_id}", headers=bob),
        await client.get(f"{B}/sessions/{session_id}/persona", headers=bob),
        await client.put(f"{B}/sessions/{session_id}/answers/study_focus", json={"value": 3}, headers=bob),
        await client.post(f"{B}/sessions/{session_id}/complete", headers=bob),
        await client.get(f"{B}/personas/current", headers=bob),
    ):
        assert response.status_code == 404, response.text


async def test_raw_queries_as_the_app_role_see_only_the_callers_rows(
    client: httpx.AsyncClient, users: Users, questionnaire: Any, worker: Worker, settings: ProfilerSettings
) -> None:
    ada, _ = await _ada_with_persona(client, users, questionnaire)
    bob_id = users.id(users.new("bob"))
    tables = ("sessions", "answers", "personas")
    with psycopg.connect(settings.database_url) as conn:
        for user in (str(bob_id), "", None):
            with conn.transaction():
                if user is not None:
                    conn.execute("SELECT set_config('app.user_id', %s, true)", (user,))
                for table in tables:
                    count = conn.execute(f"SELECT count(*) FROM profiler.{table}").fetchone()
                    assert count == (0,), f"{table} leaks rows to user {user!r}"
        with conn.transaction():
            conn.execute("SELECT set_config('app.user_id', %s, true)", (str(users.id(ada)),))
            for table in tables:
                (count,) = conn.execute(f"SELECT count(*) FROM profiler.{table}").fetchone() or (0,)
                assert count >= 1, f"ada should see her own {table}"
        with conn.transaction():
            # Writing a row for someone else is refused by the policy's WITH CHECK.
            conn.execute("SELECT set_config('app.user_id', %s, true)", (str(bob_id),))
            try:
                conn.execute(
                    "INSERT INTO profiler.sessions (id, user_id, bank_version) VALUES (%s, %s, 1)",
                    (uuid.uuid4(), users.id(ada)),
                )
            except psycopg.errors.InsufficientPrivilege:
                pass
            else:
                raise AssertionError("inserting a row for another user must fail")
