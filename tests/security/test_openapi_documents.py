"""Every service's OpenAPI document tells the truth about errors and exposure (docs/api.md)."""

from __future__ import annotations

import pytest

from journey_local.apps import documented_operations
from journey_local.services import SERVICES
from servicekit.openapi import PROBLEM_REF
from servicekit.openapi_walk import Operation

OPERATIONS = list(documented_operations())
PROBLEM = {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}

# Going public is a decision each service declares (`ServiceDefinition.public_paths`); the
# document must agree both ways, so a route that forgot its token shows up here.
PUBLIC_PATHS = {spec.name: spec.public_paths for spec in SERVICES}


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


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_an_operation_is_public_only_where_its_service_says_so(op: Operation) -> None:
    relative = op.path.removeprefix(f"/api/v1/{op.service}")
    declared = any(relative.startswith(path) for path in PUBLIC_PATHS[op.service])
    assert op.public == declared, f"{op}: public in the document: {op.public}, declared public: {declared}"


def test_only_the_api_is_documented() -> None:
    assert OPERATIONS
    outside = [op for op in OPERATIONS if not op.path.startswith(f"/api/v1/{op.service}/")]
    assert not outside, "probes and problem pages are not routed by the gateway"
