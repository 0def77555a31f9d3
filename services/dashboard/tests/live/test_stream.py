"""GET /me/stream on a real server: the snapshot first, each new version in order, heartbeats,
Last-Event-ID, isolation, the per-user cap, resync for a slow reader, a clean close."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from dashboard.live.hub import CLOSE, RESYNC, Listener, Version, hub_of
from dashboard.testing import at, tier_changed
from servicekit.testing import problem

STREAM = "/api/v1/dashboard/me/stream"


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """SSE frames as dicts (`comment` for heartbeats); a test-side parser, not product code."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            frame["comment"] = line[1:].strip()
        else:
            key, _, value = line.partition(":")
            frame[key] = value.removeprefix(" ")


async def next_event(
    stream: AsyncIterator[dict[str, Any]], *, kind: str | None = None, within: float = 10
) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        async for frame in stream:
            if kind is None or frame.get("event") == kind:
                return frame
        raise AssertionError("stream ended")

    return await asyncio.wait_for(find(), within)


async def test_snapshot_first_then_each_version_in_order(
    live_server: Any, users: Any, publish: Any, worker: Any, scheduler: Any
) -> None:
    _, base = live_server
    ada, bob = users.new("ada"), users.new("bob")
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(ada)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            frames = events(response)
            first = await next_event(frames)
            assert (first["event"], first["id"]) == ("snapshot", "0")
            assert json.loads(first["data"])["user_id"] == str(users.id(ada))

            await publish(tier_changed("plus", when=at(1)), users.id(bob))  # another user's change
            await publish(tier_changed("plus", when=at(1)), users.id(ada))
            upgraded = await next_event(frames, kind="snapshot")
            assert json.loads(upgraded["data"])["plan"]["tier"] == "plus"
            await publish(tier_changed("pro", "plus", when=at(2)), users.id(ada))
            pro = await next_event(frames, kind="snapshot")
            assert int(pro["id"]) > int(upgraded["id"])
            document = json.loads(pro["data"])
            assert (document["plan"]["tier"], document["user_id"]) == ("pro", str(users.id(ada)))
            heartbeat = await next_event(frames, within=3)
            assert heartbeat == {"comment": "heartbeat"}


async def test_last_event_id_skips_what_the_client_has(live_server: Any, users: Any) -> None:
    _, base = live_server
    name = users.new()
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        headers = {**users.headers(name), "Last-Event-ID": "0"}
        async with http.stream("GET", STREAM, headers=headers) as response:
            first = await next_event(events(response), within=3)
            assert first == {"comment": "heartbeat"}  # version 0 is what it has: nothing to send
        bad = await http.get(STREAM, headers={**users.headers(name), "Last-Event-ID": "abc"})
        assert problem(bad, 422)["errors"][0]["field"] == "header.Last-Event-ID"


async def test_open_streams_per_user_are_capped(live_server: Any, users: Any, settings: Any) -> None:
    _, base = live_server
    name = users.new()
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        opened = []
        try:
            for _ in range(settings.sse_streams_per_user):
                response = await http.send(http.build_request("GET", STREAM, headers=users.headers(name)), stream=True)
                assert response.status_code == 200
                opened.append(response)
            refused = await http.get(STREAM, headers=users.headers(name))
            assert (
                problem(refused, 429)["detail"]
                == f"at most {settings.sse_streams_per_user} open dashboard streams per user"
            )
            assert refused.headers["retry-after"] == "5"
            other = await http.send(http.build_request("GET", STREAM, headers=users.headers(users.new())), stream=True)
            assert other.status_code == 200
            opened.append(other)
        finally:
            for response in opened:
                await response.aclose()


def test_a_slow_listener_holds_a_bounded_queue_then_resyncs() -> None:
    listener = Listener(uuid.uuid4(), asyncio.Queue(maxsize=3))
    for version in range(1, 100):
        listener.offer(Version(version, {}))
    assert listener.queue.qsize() <= 3
    items = [listener.queue.get_nowait() for _ in range(listener.queue.qsize())]
    assert RESYNC in items
    assert listener.dropped > 0
    listener.offer(CLOSE)
    assert listener.queue.get_nowait() is CLOSE


async def test_a_full_queue_sends_a_resync_with_the_newest_snapshot(live_server: Any, users: Any) -> None:
    app, base = live_server
    name = users.new()
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(name)) as response:
            frames = events(response)
            await next_event(frames, kind="snapshot")
            hub = hub_of(app)
            (listener,) = hub.listeners[users.id(name)]
            listener.offer(RESYNC)
            resync = await next_event(frames, kind="resync")
            assert json.loads(resync["data"])["user_id"] == str(users.id(name))


async def test_shutdown_closes_streams_cleanly(live_server: Any, users: Any) -> None:
    app, base = live_server
    name = users.new()
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(name)) as response:
            frames = events(response)
            await next_event(frames, kind="snapshot")
            hub_of(app).close_all()
            close = await next_event(frames, kind="close")
            assert json.loads(close["data"]) == {"reason": "server shutting down"}
            rest = [frame async for frame in frames]
            assert rest == []  # the response ended, the connection was not cut
    hub_of(app).closing = False
