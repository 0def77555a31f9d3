"""Every service's OpenAPI document tells the truth about errors and exposure (docs/api.md)."""

from __future__ import annotations

import re

import pytest

from journey_local.apps import documented_operations
from servicekit.openapi import PROBLEM_REF
from servicekit.openapi_walk import Operation

OPERATIONS = list(documented_operations())
PROBLEM = {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}

# Going public is a decision, so it is named here, where a review sees it; every other
# operation must declare the bearer scheme (and so falls under the auth matrix).
PUBLIC = [
    r"GET /api/v1/billing/plans",
    r"POST /api/v1/billing/webhooks/stripe",  # Stripe's signature instead
    r"(GET|POST) /api/v1/billing/local/.*",  # the local provider's capability URLs
]


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_every_error_is_declared_as_a_problem(op: Operation) -> None:
    responses = op.spec["responses"]
    errors = {status: r for status, r in responses.items() if status[0] in "45"}
    assert {"422", "429"} <= set(errors)
    if not op.public:
        assert "401" in errors
    if op.path_params:
        assert "404" in errors
    if op.body_schema is not None:
        assert {"400", "413", "415"} <= set(errors)
    for status, response in errors.items():
        assert response["content"] == PROBLEM, f"{op} {status}"
    assert "Problem" in op.document["components"]["schemas"]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.public], ids=str)
def test_only_the_named_operations_are_public(op: Operation) -> None:
    assert any(re.fullmatch(pattern, f"{op.method} {op.path}") for pattern in PUBLIC), f"{op} needs no token"


def test_only_the_api_is_documented() -> None:
    assert OPERATIONS
    outside = [op for op in OPERATIONS if not op.path.startswith(f"/api/v1/{op.service}/")]
    assert not outside, "probes and problem pages are not routed by the gateway"
