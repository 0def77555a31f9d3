"""A student's missions journey through Traefik, as a client does it: the persona reaches
missions and its recommendations say so; a mission is started and a submission (text and a
small real PNG, multipart) is reviewed by the missions worker; a ZIP named photo.png is refused
by its bytes, and a file over the cap gets the route's own 413; the free tier's active-mission
limit is a 402 until the student upgrades with the local payment provider, then the same start
succeeds."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import httpx

from journey_local.stack import Stack
from servicekit.auth import dev_user_id

P = "/api/v1/profiler"
M = "/api/v1/missions"
BILLING = "/api/v1/billing"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x20\x80\xff" * 2 for _ in range(2)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "not a photo")
    return buffer.getvalue()


def _until(deadline_s: float, attempt: Any) -> Any:
    """Call `attempt` until it returns something truthy or the time is up (then its last value)."""
    deadline = time.monotonic() + deadline_s
    while True:
        found = attempt()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _persona_tags(client: httpx.Client, example_answer: Any) -> list[str]:
    session_id = client.post(f"{P}/sessions").json()["id"]
    for question in client.get(f"{P}/questions").json()["items"]:
        answered = client.put(
            f"{P}/sessions/{session_id}/answers/{question['id']}", json={"value": example_answer(question)}
        )
        assert answered.status_code == 200, answered.text
    completed = client.post(f"{P}/sessions/{session_id}/complete")
    assert completed.status_code == 202, completed.text
    persona = _until(15, lambda: (r := client.get(completed.headers["location"])).status_code == 200 and r)
    assert persona, "the persona did not arrive"
    tags: list[str] = persona.json()["content"]["mission_tags"]
    assert tags
    return tags


def _stored_files(stack: Stack, user: str) -> list[Path]:
    root = stack.config.data_dir / "missions-files" / str(dev_user_id(user))
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_persona_to_recommendations_to_a_reviewed_submission_and_the_paid_limit(
    stack: Stack, example_answer: Any, auth_headers: Any
) -> None:
    user = f"e2e-missions-{time.time_ns()}"
    with httpx.Client(base_url=stack.gateway_url, headers=auth_headers(user), timeout=10) as client:
        tags = _persona_tags(client, example_answer)

        # The persona reaches missions through its event; recommendations are built from it.
        def recommended() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(f"{M}/recommendations").json()
            return body if body["based_on"]["interests"] == tags else None

        recommendations = _until(10, recommended)
        assert recommendations, "the persona did not reach missions"
        labels = [t.replace("_", " ") for t in tags]
        by_interest = [
            r
            for r in recommendations["items"]
            if "your interest in" in r["why"] and any(label in r["why"] for label in labels)
        ]
        assert len(by_interest) >= 2, recommendations["items"]
        first, second = by_interest[0]["mission"]["id"], by_interest[1]["mission"]["id"]

        # Start (retry-safe): the same key answers the same enrollment.
        started = client.post(f"{M}/catalog/{first}/start", headers={"Idempotency-Key": "m-start-1"})
        assert started.status_code == 201, started.text
        replayed = client.post(f"{M}/catalog/{first}/start", headers={"Idempotency-Key": "m-start-1"})
        assert (replayed.status_code, replayed.json()["id"]) == (201, started.json()["id"])
        assert replayed.headers["idempotent-replayed"] == "true"
        submissions_url = started.json()["submissions_url"]

        # Text + a real PNG, multipart, as `curl -F` sends them.
        image = _png()
        submitted = client.post(
            submissions_url,
            files=[("text", (None, b"My first notes on this mission.")), ("files", ("strip.png", image, "image/png"))],
            headers={"Idempotency-Key": "m-submit-1"},
        )
        assert submitted.status_code == 202, submitted.text
        assert submitted.json()["status"] == "pending"
        location = submitted.headers["location"]
        assert location == f"{M}/submissions/{submitted.json()['id']}"

        def scored() -> dict[str, Any] | None:
            got = client.get(location)
            assert got.status_code == 200, got.text
            body: dict[str, Any] = got.json()
            if body["status"] == "pending":
                assert int(got.headers["retry-after"]) >= 1
                return None
            return body

        review = _until(15, scored)
        assert review, "the review did not arrive"
        assert review["review"]["provider"] == "offline"  # free tier: the offline reviewer
        assert review["review"]["verdict"] == "resubmit"  # a thin text: the enrollment stays active
        assert review["review"]["next_step"]
        assert {c["criterion_id"] for c in review["review"]["criteria"]}

        [stored] = review["files"]
        download = client.get(stored["url"])
        assert download.status_code == 200
        assert download.content == image
        assert download.headers["content-type"] == "image/png"
        assert download.headers["content-disposition"].startswith('attachment; filename="strip.png"')
        assert download.headers["x-content-type-options"] == "nosniff"

        # A ZIP named photo.png, declared image/png: refused by its bytes, nothing stored.
        refused = client.post(
            submissions_url,
            files=[("text", (None, b"my work")), ("files", ("photo.png", _zip(), "image/png"))],
        )
        assert refused.status_code == 415, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detected_type"] == "application/zip"
        assert "application/zip" in refused.json()["detail"]
        assert len(_stored_files(stack, user)) == 1

        # A file over the per-file cap: the route's own 413 reaches the client, naming the file
        # and the cap (uploads pass the gateway unbuffered; the route caps them as they arrive).
        cap = int(stack.config.extra_env["MAX_FILE_BYTES"])
        too_big = client.post(
            submissions_url,
            files=[("text", (None, b"my work")), ("files", ("big.png", image + b"\0" * cap, "image/png"))],
        )
        assert too_big.status_code == 413, too_big.text
        assert too_big.headers["content-type"] == "application/problem+json"
        assert (too_big.json()["field"], too_big.json()["max_file_bytes"]) == ("files[0]", cap)
        assert len(_stored_files(stack, user)) == 1

        # Free runs one mission at a time: 402 naming the limit and the tier that lifts it.
        over = client.post(f"{M}/catalog/{second}/start", headers={"Idempotency-Key": "m-start-2"})
        assert over.status_code == 402, over.text
        assert over.headers["content-type"] == "application/problem+json"
        problem = over.json()
        assert (problem["limit_name"], problem["tier"], problem["lifted_by"]) == ("active_missions", "free", "plus")
        assert problem["used"] == problem["limit"] == 1

        # Upgrade with the local payment provider; the same start (same key) then succeeds.
        checkout = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "m-plus-1"}
        )
        assert checkout.status_code == 200, checkout.text
        confirmed = httpx.post(f"{checkout.json()['url']}/confirm")
        assert confirmed.status_code == 200, confirmed.text

        def started_now() -> httpx.Response | None:
            again = client.post(f"{M}/catalog/{second}/start", headers={"Idempotency-Key": "m-start-2"})
            if again.status_code == 402:
                return None
            return again

        after = _until(5, started_now)
        assert after is not None, "still 402 5 s after the upgrade"
        assert after.status_code == 201, after.text
        assert after.json()["mission_id"] == second
        assert after.json()["status"] == "active"
