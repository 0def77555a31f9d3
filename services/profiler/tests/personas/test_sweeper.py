"""The stranded-persona sweeper: a persona pending past the deadline is requested again, once,
and written by the worker; the worker role sees other users' pending personas only when no
user is set (the sweep), never inside a user's transaction."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from profiler.personas.sweeper import request_stranded_again
from profiler.settings import ProfilerSettings
from servicekit.db import create_engine
from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/profiler"


def _strand(admin_dsn: str, session_id: str) -> uuid.UUID:
    """As if its request had been lost an hour ago: pending, never written."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        row = conn.execute(
            "UPDATE profiler.personas SET status = 'pending', content = NULL, generated_at = NULL, "
            "created_at = now() - interval '1 hour' WHERE session_id = %s RETURNING id",
            (session_id,),
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _requests_for(admin_dsn: str, persona_id: uuid.UUID) -> int:
    with psycopg.connect(admin_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM profiler.outbox WHERE subject = 'journey.profiler.persona.requested' "
            "AND payload->'data'->>'persona_id' = %s",
            (str(persona_id),),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_stranded_persona_is_requested_again_once_and_written(
    settings: ProfilerSettings, infra: Any, users: Users, questionnaire: Any, worker: Worker
) -> None:
    headers = users.headers(users.new("stranded"))
    session_id = await questionnaire.completed_session(headers)

    async def ready() -> bool:
        response = await questionnaire.client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
        return bool(response.status_code == 200)

    await eventually(ready)
    persona_id = _strand(infra.admin_dsn, session_id)
    engine = create_engine(settings.worker_dsn, pool_size=1)
    try:
        assert persona_id not in await request_stranded_again(engine, older_than=7200)  # not past this deadline
        assert persona_id in await request_stranded_again(engine, older_than=600)
        assert persona_id not in await request_stranded_again(engine, older_than=600)  # once
    finally:
        await engine.dispose()
    assert _requests_for(infra.admin_dsn, persona_id) == 2  # the original and one more
    await eventually(ready)


async def test_the_sweep_policy_shows_nothing_inside_a_users_transaction(
    settings: ProfilerSettings, infra: Any, users: Users, questionnaire: Any, worker: Worker
) -> None:
    headers = users.headers(users.new("pending-owner"))
    session_id = await questionnaire.completed_session(headers)

    async def written() -> bool:
        response = await questionnaire.client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
        return bool(response.status_code == 200)

    await eventually(written)  # so the worker cannot write it while we look
    persona_id = _strand(infra.admin_dsn, session_id)
    with psycopg.connect(infra.dsn("profiler_worker")) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true)", (str(uuid.uuid4()),))
        other_user = conn.execute("SELECT count(*) FROM profiler.personas WHERE id = %s", (persona_id,)).fetchone()
        conn.rollback()
        conn.execute("SELECT set_config('app.user_id', '', true)")
        no_user = conn.execute("SELECT count(*) FROM profiler.personas WHERE id = %s", (persona_id,)).fetchone()
    assert (other_user, no_user) == ((0,), (1,))
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:  # let the sweep of other tests skip it
        conn.execute("UPDATE profiler.personas SET requested_again_at = now() WHERE id = %s", (persona_id,))
