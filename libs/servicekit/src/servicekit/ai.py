"""One AI provider interface, two implementations (OpenAI, offline), and a daily budget.

Calls run in workers only. A service describes a `StructuredTask` (instructions, input,
the pydantic schema of the answer, and the offline rules-based answer); the provider
returns an `AIResult` that says which path produced the value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import openai
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential

from servicekit.logging import get_logger
from servicekit.metrics import count_ai
from servicekit.settings import ServiceSettings

log = get_logger(__name__)
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class StructuredTask(Generic[T]):
    name: str
    instructions: str
    input: dict[str, Any]
    schema: type[T]
    offline: Callable[[], T]


@dataclass(frozen=True)
class AIResult(Generic[T]):
    value: T
    provider: str
    fallback: bool = False
    reason: str | None = None


class AIProvider(Protocol):
    name: str

    async def generate(self, task: StructuredTask[T]) -> AIResult[T]: ...


class OfflineProvider:
    """Needs no network: the task's own rules-based answer."""

    name = "offline"

    async def generate(self, task: StructuredTask[T]) -> AIResult[T]:
        count_ai(task.name, self.name, "ok")
        return AIResult(task.offline(), provider=self.name)


class InvalidModelAnswer(Exception):
    pass


class OpenAIProvider:
    """The `openai` SDK with a JSON-schema answer, validated; retried, then offline."""

    name = "openai"

    def __init__(self, settings: ServiceSettings) -> None:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-set"
        self.client = openai.AsyncOpenAI(
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.ai_timeout_seconds,
            max_retries=0,  # tenacity owns retries, so validation failures retry too
        )
        self.model = settings.openai_model
        self.max_attempts = settings.ai_max_attempts

    async def _ask(self, task: StructuredTask[T]) -> T:
        response = await self.client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": task.instructions},
                {"role": "user", "content": json.dumps(task.input, ensure_ascii=False)},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": task.name, "schema": task.schema.model_json_schema()},
            },
        )
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise InvalidModelAnswer("empty answer")
        try:
            return task.schema.model_validate_json(content)
        except ValidationError as exc:
            raise InvalidModelAnswer(str(exc)) from exc

    async def generate(self, task: StructuredTask[T]) -> AIResult[T]:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_attempts),
                wait=wait_exponential(multiplier=0.2, max=5),
                retry=retry_if_exception_type((InvalidModelAnswer, openai.APIError)),
                before_sleep=lambda _state: count_ai(task.name, self.name, "retried"),
            ):
                with attempt:
                    value = await self._ask(task)
                    count_ai(task.name, self.name, "ok")
                    return AIResult(value, provider=self.name)
        except RetryError as exc:
            reason = repr(exc.last_attempt.exception())
            log.warning("ai_fallback", task=task.name, reason=reason)
            count_ai(task.name, self.name, "fallback")
            return AIResult(task.offline(), provider="offline", fallback=True, reason=reason)
        raise AssertionError("unreachable")  # pragma: no cover


def build_provider(settings: ServiceSettings) -> AIProvider:
    if settings.ai_provider == "openai":
        return OpenAIProvider(settings)
    return OfflineProvider()


async def spend_ai_call(session: AsyncSession, user_id: uuid.UUID, daily_budget: int) -> bool:
    """Count one AI call for today (UTC); False once the user's daily budget is used."""
    if daily_budget <= 0:
        return False  # the insert below would let the day's first call through
    result = await session.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO ai_usage AS u (user_id, day, calls) "
            "VALUES (:uid, (now() AT TIME ZONE 'UTC')::date, 1) "
            "ON CONFLICT (user_id, day) DO UPDATE SET calls = u.calls + 1 WHERE u.calls < :budget "
            "RETURNING calls"
        ).bindparams(uid=user_id, budget=daily_budget)
    )
    return result.first() is not None


async def generate_if_allowed(provider: AIProvider, task: StructuredTask[T], *, within_budget: bool) -> AIResult[T]:
    """Use `provider` if the call was within the user's budget (see `spend_ai_call`, which the
    caller runs in a short transaction first); otherwise answer offline, marked."""
    if not within_budget:
        count_ai(task.name, provider.name, "over_budget")
        return AIResult(task.offline(), provider="offline", fallback=True, reason="daily AI budget used")
    return await provider.generate(task)
