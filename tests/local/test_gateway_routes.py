"""The gateway's routes come from the definitions; streaming paths skip the buffering body limit."""

from __future__ import annotations

import re
from pathlib import Path

from journey_local.gateway_routes import STREAMING_PRIORITY, path_rule, routes_config
from journey_local.services import SERVICES

GATEWAY = Path(__file__).resolve().parents[2] / "gateway" / "dynamic.yml"


def test_streaming_paths_get_a_router_without_the_buffering_middleware() -> None:
    config = routes_config(
        {"dashboard": "http://127.0.0.1:1", "profiler": "http://127.0.0.1:2"}, {"dashboard": ("/me/stream",)}
    )
    routers = config["http"]["routers"]
    assert routers["dashboard"]["middlewares"] == ["journey"]
    stream = routers["dashboard-stream-0"]
    assert stream["rule"] == "Path(`/api/v1/dashboard/me/stream`)"
    assert stream["middlewares"] == ["journey-stream"]
    assert stream["priority"] == STREAMING_PRIORITY
    assert "profiler-stream-0" not in routers

    chains = _chains(GATEWAY.read_text())
    assert "body-limit" in chains["journey"]
    assert "body-limit" not in chains["journey-stream"]
    # The same chain without the buffer; its problem pages rewrite only the rate limit's 429, so a
    # route's own 413 (an upload over its cap) reaches the client.
    assert set(chains["journey"]) - {"body-limit", "problem-pages"} == set(chains["journey-stream"]) - {
        "problem-pages-429"
    }
    assert "problem-pages-429" in chains["journey-stream"]


def _chains(dynamic: str) -> dict[str, list[str]]:
    """`name: chain: middlewares: [a, b]` blocks of the dynamic configuration."""
    found = re.findall(r"^    ([\w-]+):\n      chain:\n        middlewares: \[([^\]]*)\]", dynamic, re.MULTILINE)
    return {name: [m.strip() for m in members.split(",")] for name, members in found}


def test_the_dashboard_declares_its_stream() -> None:
    (dashboard,) = [spec for spec in SERVICES if spec.name == "dashboard"]
    assert dashboard.streaming_paths == ("/me/stream",)
    assert dashboard.own_429_paths == ("/me/refresh",)


def test_own_429_paths_keep_their_429_and_only_rewrite_413() -> None:
    routers = routes_config({"dashboard": "http://127.0.0.1:1"}, None, {"dashboard": ("/me/refresh",)})["http"][
        "routers"
    ]
    own = routers["dashboard-own-429-0"]
    assert own["rule"] == "Path(`/api/v1/dashboard/me/refresh`)"
    assert own["middlewares"] == ["journey-own-429"]
    assert own["priority"] == STREAMING_PRIORITY
    chains = _chains(GATEWAY.read_text())
    # The usual chain, its problem pages for 413 only.
    assert chains["journey-own-429"] == ["problem-pages-413" if m == "problem-pages" else m for m in chains["journey"]]
    dynamic = GATEWAY.read_text()
    assert re.search(r'problem-pages-413:\n      errors:\n        status: \["413"\]', dynamic)


def test_a_streaming_path_with_a_parameter_matches_one_segment_only() -> None:
    routers = routes_config(
        {"missions": "http://127.0.0.1:1"}, {"missions": ("/enrollments/{enrollment_id}/submissions",)}
    )["http"]["routers"]
    assert routers["missions-stream-0"]["rule"] == "PathRegexp(`^/api/v1/missions/enrollments/[^/]+/submissions$`)"
    assert routers["missions-stream-0"]["middlewares"] == ["journey-stream"]
    assert path_rule("/api/v1/x/a.b/{id}") == r"PathRegexp(`^/api/v1/x/a\.b/[^/]+$`)"


def test_missions_streams_its_uploads() -> None:
    (missions,) = [spec for spec in SERVICES if spec.name == "missions"]
    assert missions.streaming_paths == ("/enrollments/{enrollment_id}/submissions",)


def test_the_web_app_takes_everything_outside_the_api_at_the_lowest_priority() -> None:
    routers = routes_config({"profiler": "http://127.0.0.1:1"}, web_url="http://127.0.0.1:9")["http"]
    web = routers["routers"]["web"]
    assert web["rule"] == "PathPrefix(`/`) && !PathPrefix(`/api/`)"
    assert web["priority"] == 1
    assert web["middlewares"] == ["journey-web"]
    assert routers["services"]["web"]["loadBalancer"]["servers"] == [{"url": "http://127.0.0.1:9"}]
    assert "web" not in routes_config({"profiler": "http://127.0.0.1:1"})["http"]["routers"]

    chains = _chains(GATEWAY.read_text())
    # The app sends its own strict CSP, which the API's headers would replace; nothing buffers
    # its live relay or uploads.
    assert chains["journey-web"] == ["web-security-headers", "rate-limit"]
    web_headers = GATEWAY.read_text().split("    web-security-headers:\n", 1)[1].split("\n    rate-limit:", 1)[0]
    assert "contentSecurityPolicy" not in web_headers
    assert "frameDeny: true" in web_headers
