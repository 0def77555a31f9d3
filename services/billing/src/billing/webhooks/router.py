from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from billing.deps import Settings
from billing.webhooks import intake
from servicekit.direct import PublicDirectPool
from servicekit.openapi import problem_responses

router = APIRouter(tags=["webhooks"])


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool


@router.post(
    "/webhooks/stripe",
    # The handler reads the raw body (the signature covers its exact bytes), so FastAPI cannot see it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "a Stripe event"}}},
        }
    },
    responses=problem_responses(
        (400, "Stripe-Signature missing or failing, or the body is not a Stripe event (nothing is stored)")
    ),
)
async def stripe_webhook(
    request: Request,
    pool: PublicDirectPool,
    settings: Settings,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookAck:
    """Public, signature-verified. Stored by event id and answered at once; the worker applies it.
    The transaction opens only after the checks: a refused body costs no connection."""
    event = intake.verify(await request.body(), stripe_signature, settings)
    stored = await intake.receive(pool, event)
    return WebhookAck(received=True, duplicate=not stored)
