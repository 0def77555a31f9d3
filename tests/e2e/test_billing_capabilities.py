"""The local payment provider's links are capabilities: the gateway's access log must never
hold them (a log reader could otherwise pay, cancel or resume for the student)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from journey_local.stack import Stack

BILLING = "/api/v1/billing"


def _logged(stack: Stack, request_id: str) -> list[dict[str, Any]]:
    """Every access-log entry, once the one for `request_id` is written."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        path = stack.traefik.access_log
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
        if any(e.get("request_X-Request-Id") == request_id for e in entries):
            return entries
        time.sleep(0.2)
    raise AssertionError(f"{request_id} did not reach the access log")


def test_capability_ids_never_reach_the_access_log(stack: Stack, auth_headers: Callable[[str], dict[str, str]]) -> None:
    headers = auth_headers(f"e2e-capability-{time.time_ns()}")
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        checkout = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "cap-1"}
        )
        assert checkout.status_code == 200, checkout.text
        url = checkout.json()["url"]
        assert httpx.get(url, headers={"X-Request-Id": "e2e-capability-page"}).status_code == 200
        portal = client.post(f"{BILLING}/portal").json()["url"]
        assert httpx.get(portal, headers={"X-Request-Id": "e2e-capability-portal"}).status_code == 200

    entries = _logged(stack, "e2e-capability-page")
    entries = _logged(stack, "e2e-capability-portal")
    log_text = stack.traefik.access_log.read_text()
    for capability in (url.rsplit("/", 1)[1], portal.rsplit("/", 1)[1]):
        assert capability not in log_text
    page = next(e for e in entries if e.get("request_X-Request-Id") == "e2e-capability-page")
    assert page["DownstreamStatus"] == 200  # still useful: status, router, timing, request id
    assert "billing" in page["RouterName"]
