from __future__ import annotations

from fastapi import APIRouter

from billing.deps import Engine, Provider, Settings
from billing.subscriptions import service
from billing.subscriptions.schemas import SubscriptionView
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.openapi import problem_responses

router = APIRouter(prefix="/subscription", tags=["subscription"])
CHANGE_PROBLEMS = problem_responses(
    (404, "no current subscription"),
    (409, "already set to cancel / not set to cancel / the period has ended"),
    (503, "the payment provider did not answer (Retry-After)"),
)


@router.get("")
async def get_subscription(db: DbSession, principal: CurrentPrincipal) -> SubscriptionView:
    return await service.view(db, principal.user_id)


# Cancel and resume call the provider: they open short transactions around it (`Engine`),
# never the request's one transaction.
@router.post("/cancel", responses=CHANGE_PROBLEMS)
async def cancel_subscription(
    engine: Engine, principal: CurrentPrincipal, provider: Provider, settings: Settings
) -> SubscriptionView:
    """Cancel at the end of the paid period; the tier stays until then."""
    return await service.set_cancel_at_period_end(engine, provider, principal.user_id, settings, cancel=True)


@router.post("/resume", responses=CHANGE_PROBLEMS)
async def resume_subscription(
    engine: Engine, principal: CurrentPrincipal, provider: Provider, settings: Settings
) -> SubscriptionView:
    """Undo a cancellation before the period ends (409 after)."""
    return await service.set_cancel_at_period_end(engine, provider, principal.user_id, settings, cancel=False)
