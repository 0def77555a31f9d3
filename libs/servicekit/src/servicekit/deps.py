"""Annotated dependency aliases every router uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import CurrentPrincipal
from servicekit.db import user_transaction


async def user_session(request: Request, principal: CurrentPrincipal) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, scoped to the caller by RLS; commits before the response."""
    async with user_transaction(request.app.state.engine, principal.user_id) as session:
        yield session


async def public_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For public endpoints (plans, webhooks): no user, so user-owned rows are invisible."""
    async with user_transaction(request.app.state.engine, None) as session:
        yield session


async def _engine(request: Request) -> AsyncEngine:  # async: a plain def would hop to a worker thread
    engine: AsyncEngine = request.app.state.engine
    return engine


DbSession = Annotated[AsyncSession, Depends(user_session, scope="function")]
PublicSession = Annotated[AsyncSession, Depends(public_session, scope="function")]
# For handlers that call something slow (a payment provider): they open their own short
# `user_transaction`s around it instead of holding the request's one transaction open.
Engine = Annotated[AsyncEngine, Depends(_engine)]
