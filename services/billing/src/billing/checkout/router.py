from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billing.checkout import service
from billing.checkout.schemas import CheckoutIn, CheckoutOut, PortalOut
from billing.deps import Engine, Provider
from servicekit.auth import CurrentPrincipal
from servicekit.idempotency import RequiredIdempotencyKey, Reservation, idempotent_in_steps
from servicekit.openapi import problem_responses

router = APIRouter(tags=["checkout"])


@router.post(
    "/checkout",
    response_model=CheckoutOut,
    responses=problem_responses(
        (404, "no such plan"),
        (409, "the plan (or another paid plan) is already held, or this Idempotency-Key is still being processed"),
        (422, "the plan is free, or the Idempotency-Key was used for a different request"),
        (503, "the payment provider did not answer (Retry-After)"),
    ),
)
async def create_checkout(
    body: CheckoutIn,
    request: Request,
    engine: Engine,
    principal: CurrentPrincipal,
    provider: Provider,
    idempotency_key: RequiredIdempotencyKey,
) -> JSONResponse:
    """A Checkout Session for `plan_id`; retry with the same Idempotency-Key to get the same one."""

    async def start(reservation: Reservation) -> CheckoutOut:
        return await service.start_checkout(
            engine, provider, principal.user_id, body.plan_id, idempotency_key, reservation
        )

    return await idempotent_in_steps(engine, request, idempotency_key, start)


@router.post(
    "/portal",
    responses=problem_responses(
        (404, "no billing account yet"), (503, "the payment provider did not answer (Retry-After)")
    ),
)
async def open_portal(engine: Engine, principal: CurrentPrincipal, provider: Provider) -> PortalOut:
    return PortalOut(url=await service.portal(engine, provider, principal.user_id))
