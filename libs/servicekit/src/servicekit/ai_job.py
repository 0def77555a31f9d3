"""The one shape of every worker job that asks a model (persona, reflection sentiment,
submission review):

1. **load**, in a short transaction as the event's user: what the model needs, as a
   `StructuredTask`, or None when there is nothing left to do (already done, deleted);
2. **generate**, with no transaction open, so no connection or row lock waits on the model:
   the configured provider when the user's tier allows it and the daily budget has a call
   left, otherwise the offline answer (marked as a fallback when the budget stopped it);
3. **store**, in one transaction with the inbox claim: the result and any events it causes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload
from servicekit.ai import AIProvider, AIResult, OfflineProvider, StructuredTask, generate_if_allowed, spend_ai_call
from servicekit.db import user_transaction
from servicekit.events.consumer import Subscription
from servicekit.events.envelope import Event
from servicekit.events.typed import on

P = TypeVar("P", bound=EventPayload)
T = TypeVar("T", bound=BaseModel)
Step = Callable[[AsyncSession], Awaitable[None]]
# Whether the caller (the RLS user of the session) may use the model rather than the offline rules.
ModelPolicy = Callable[[AsyncSession], Awaitable[bool]]


@dataclass(frozen=True)
class AIJob(Generic[P, T]):
    payload: type[P]
    durable: str
    load: Callable[[AsyncSession, P, Event], Awaitable[StructuredTask[T] | None]]
    store: Callable[[AsyncSession, P, Event, AIResult[T]], Awaitable[None]]
    allows_model: ModelPolicy

    def subscription(self, provider: AIProvider, *, daily_budget: int, **options: Any) -> Subscription:
        """The work-queue consumer of `payload` that runs this job."""

        async def prepare(engine: AsyncEngine, payload: P, event: Event) -> Step | None:
            user_id = event.user_id()
            if user_id is None:
                raise ValueError(f"{self.payload.SUBJECT} without a user subject")
            async with user_transaction(engine, user_id) as db:
                task = await self.load(db, payload, event)
                if task is None:
                    return None
                chosen = provider if await self.allows_model(db) else OfflineProvider()
                within_budget = chosen.name == "offline" or await spend_ai_call(db, user_id, daily_budget)
            result = await generate_if_allowed(chosen, task, within_budget=within_budget)

            async def store(db: AsyncSession) -> None:
                await self.store(db, payload, event, result)

            return store

        return on(self.payload, durable=self.durable, prepare=prepare, **options)
