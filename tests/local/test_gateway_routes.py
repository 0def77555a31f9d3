"""The gateway's routers, generated from the service definitions."""

from __future__ import annotations

from journey_local.gateway_routes import path_rule, routes_config


def test_a_streaming_path_with_a_parameter_matches_one_segment_only() -> None:
    routers = routes_config(
        {"missions": "http://127.0.0.1:1", "dashboard": "http://127.0.0.1:2"},
        {"missions": ("/enrollments/{enrollment_id}/submissions",), "dashboard": ("/me/stream",)},
    )["http"]["routers"]
    assert routers["missions-stream-0"]["rule"] == "PathRegexp(`^/api/v1/missions/enrollments/[^/]+/submissions$`)"
    assert routers["missions-stream-0"]["middlewares"] == ["journey-stream"]
    assert routers["dashboard-stream-0"]["rule"] == "Path(`/api/v1/dashboard/me/stream`)"
    assert routers["missions"]["middlewares"] == ["journey"]


def test_literal_parts_are_escaped() -> None:
    assert path_rule("/api/v1/x/a.b/{id}") == r"PathRegexp(`^/api/v1/x/a\.b/[^/]+$`)"
