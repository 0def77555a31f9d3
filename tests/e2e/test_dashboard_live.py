"""The live dashboard through Traefik: a client subscribes to GET /me/stream, the student checks
in a habit, upgrades and submits a mission, and each new version arrives on the stream in
order. The gateway does not buffer the stream (the first event arrives while it is open) and
heartbeats keep it open past Traefik's 30 s read timeout."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx

from journey_local.stack import Stack

D = "/api/v1/dashboard"
C = "/api/v1/coaching"
M = "/api/v1/missions"
BILLING = "/api/v1/billing"
HOLD_OPEN_SECONDS = 32  # past the entry point's 30 s readTimeout


class StreamReader(threading.Thread):
    """Reads SSE frames into a queue (test-side parsing), with the time each arrived."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.frames: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.status: int | None = None
        self.content_type = ""
        self.stop = threading.Event()
        self.ended: tuple[float, str] | None = None

    def run(self) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=60)) as client,
            client.stream("GET", self.url, headers=self.headers) as response,
        ):
            self.status, self.content_type = response.status_code, response.headers.get("content-type", "")
            frame: dict[str, str] = {}
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line == "":
                    if frame:
                        self.frames.put((time.monotonic(), frame))
                    frame = {}
                elif line.startswith(":"):
                    frame["comment"] = line[1:].strip()
                else:
                    key, _, value = line.partition(":")
                    frame[key] = value.removeprefix(" ")

    def next_snapshot(self, within: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            try:
                _, frame = self.frames.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no snapshot within {within} s; stream ended: {self.ended}") from None
            if frame.get("event") == "snapshot":
                return {"id": int(frame["id"]), **json.loads(frame["data"])}

    def until(self, check: Any, within: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            snapshot = self.next_snapshot(within=max(0.1, deadline - time.monotonic()))
            if check(snapshot):
                return snapshot


def test_a_student_watches_the_dashboard_live(stack: Stack, auth_headers: Any) -> None:
    user = f"e2e-dashboard-{time.time_ns()}"
    headers = auth_headers(user)
    reader = StreamReader(f"{stack.gateway_url}{D}/me/stream", headers)
    opened = time.monotonic()
    reader.start()
    first = reader.next_snapshot(within=10)  # arrives while the stream is open: not buffered
    assert reader.status == 200
    assert reader.content_type.startswith("text/event-stream")
    assert first["id"] == 0
    versions = [first["id"]]

    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        habit = client.post(f"{C}/habits", json={"name": "Read"}, headers={"Idempotency-Key": "dash-habit"})
        assert habit.status_code == 201, habit.text
        habit_id, today = habit.json()["id"], habit.json()["start_date"]
        logged = client.put(f"{C}/habits/{habit_id}/logs/{today}")
        assert logged.status_code in (200, 201), logged.text
        checked = reader.until(lambda s: any(h["done"] for h in s["habits_today"]))
        versions.append(checked["id"])

        checkout = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "dash-plus"}
        )
        assert checkout.status_code == 200, checkout.text
        assert httpx.post(f"{checkout.json()['url']}/confirm").status_code == 200
        upgraded = reader.until(lambda s: s["plan"]["tier"] == "plus")
        versions.append(upgraded["id"])

        mission = client.get(f"{M}/catalog").json()["items"][0]["id"]
        started = client.post(f"{M}/catalog/{mission}/start", headers={"Idempotency-Key": "dash-start"})
        assert started.status_code == 201, started.text
        submitted = client.post(
            started.json()["submissions_url"],
            files=[("text", (None, b"My notes on this mission, with a question and a plan."))],
            headers={"Idempotency-Key": "dash-submit"},
        )
        assert submitted.status_code == 202, submitted.text
        reviewed = reader.until(lambda s: bool(s["reviews"]) and s["reviews"][0]["score"] is not None)
        versions.append(reviewed["id"])
        assert reviewed["reviews"][0]["submission_id"] == submitted.json()["id"]
        assert reviewed["plan"]["tier"] == "plus"

        assert versions == sorted(versions)
        assert len(set(versions)) == len(versions)
        me = client.get(f"{D}/me")
        assert me.status_code == 200
        assert int(me.headers["etag"].strip('"')) >= reviewed["id"]
        assert client.get(f"{D}/me", headers={"If-None-Match": me.headers["etag"]}).status_code == 304

    # Heartbeats keep the stream open past the gateway's timeouts.
    heartbeats = 0
    while time.monotonic() - opened < HOLD_OPEN_SECONDS:
        try:
            _, frame = reader.frames.get(timeout=HOLD_OPEN_SECONDS)
        except queue.Empty:
            break
        heartbeats += frame.get("comment") == "heartbeat"
    assert heartbeats >= 1
    assert reader.is_alive(), "the stream closed before the heartbeats kept it open"
    reader.stop.set()


def test_the_refresh_limit_reaches_the_client_through_the_gateway(stack: Stack, auth_headers: Any) -> None:
    """POST /me/refresh's own 429 (its detail and Retry-After) passes the gateway intact: on the
    other routes the gateway replaces every 429 with its rate-limit page (`Retry-After: 1`)."""
    with httpx.Client(base_url=stack.gateway_url, headers=auth_headers(f"e2e-refresh-{time.time_ns()}")) as client:
        assert client.post(f"{D}/me/refresh").status_code == 202
        again = client.post(f"{D}/me/refresh")
    assert again.status_code == 429
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "refreshed less than 10 s ago" in again.json()["detail"]
    assert int(again.headers["retry-after"]) >= 5  # the service's wait, not the gateway page's 1
    assert again.headers["x-frame-options"] == "DENY"  # still the gateway's security headers
