from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from billing.checkout import service
from billing.checkout.schemas import CheckoutIn, CheckoutOut, PortalOut
from billing.deps import Provider
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.openapi import problem_responses

router = APIRouter(tags=["checkout"])


@router.post(
    "/checkout",
    responses=problem_responses(
        (404, "no such plan"),
        (409, "the plan is already held, or the Idempotency-Key was used for another plan"),
        (422, "the plan is free"),
        (503, "the payment provider did not answer (Retry-After)"),
    ),
)
async def create_checkout(
    body: CheckoutIn,
    db: DbSession,
    principal: CurrentPrincipal,
    provider: Provider,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> CheckoutOut:
    """A Checkout Session for `plan_id`; retry with the same Idempotency-Key to get the same one."""
    return await service.start_checkout(db, provider, principal.user_id, body.plan_id, idempotency_key)


@router.post(
    "/portal",
    responses=problem_responses(
        (404, "no billing account yet"), (503, "the payment provider did not answer (Retry-After)")
    ),
)
async def open_portal(db: DbSession, principal: CurrentPrincipal, provider: Provider) -> PortalOut:
    return PortalOut(url=await service.portal(db, provider, principal.user_id))
