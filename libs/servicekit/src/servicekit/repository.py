"""Queries every user-owned table needs, written once: get (or 404), a keyset page, add,
update, delete. Row-level security already limits every statement to the caller's rows, so
another user's id simply finds nothing and answers 404.

    habits = OwnedRepository(Habit, label="habit")
    HabitById = Annotated[Habit, Depends(owned(habits))]      # for routes on /habits/{id}
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, tuple_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.deps import DbSession
from servicekit.errors import NotFound
from servicekit.pagination import Page, PageParams, encode_cursor

M = TypeVar("M", bound=SQLModel)


class OwnedRepository(Generic[M]):
    """A table with `id` (UUID) and `created_at`, protected by the user policy."""

    def __init__(self, model: type[M], *, label: str) -> None:
        self.model = model
        self.label = label
        self._id = col(model.id)  # type: ignore[attr-defined]
        self._created_at = col(model.created_at)  # type: ignore[attr-defined]

    async def get(self, db: AsyncSession, id_: uuid.UUID, *, for_update: bool = False) -> M | None:
        query = select(self.model).where(self._id == id_)
        if for_update:
            query = query.with_for_update()
        return (await db.exec(query)).first()

    async def get_or_404(self, db: AsyncSession, id_: uuid.UUID, *, for_update: bool = False) -> M:
        row = await self.get(db, id_, for_update=for_update)
        if row is None:
            raise NotFound(f"{self.label} {id_} does not exist")
        return row

    async def page(self, db: AsyncSession, params: PageParams, *where: ColumnElement[bool]) -> Page[M]:
        """Newest first; the cursor is the (created_at, id) of the last row given."""
        query = select(self.model).where(*where)
        if params.after is not None:
            query = query.where(tuple_(self._created_at, self._id) < tuple_(*params.after))
        query = query.order_by(self._created_at.desc(), self._id.desc()).limit(params.limit + 1)
        rows = list((await db.exec(query)).all())
        more = len(rows) > params.limit
        rows = rows[: params.limit]
        last = rows[-1] if rows else None
        cursor = encode_cursor(last.created_at, last.id) if more and last is not None else None  # type: ignore[attr-defined]
        return Page[M](items=rows, next_cursor=cursor)

    async def add(self, db: AsyncSession, row: M) -> M:
        db.add(row)
        await db.flush()
        await db.refresh(row)
        return row

    async def update(self, db: AsyncSession, row: M, changes: dict[str, Any]) -> M:
        for name, value in changes.items():
            setattr(row, name, value)
        return await self.add(db, row)

    async def delete(self, db: AsyncSession, row: M) -> None:
        await db.delete(row)
        await db.flush()


def owned(
    repository: OwnedRepository[M], *, param: str = "id", for_update: bool = False
) -> Callable[..., Awaitable[M]]:
    """A route dependency that loads the caller's row named by the path's `{id}` (or the path
    parameter `param`, e.g. `habit_id`), or answers 404. FastAPI caches it per request, so the
    route and its sub-dependencies share one read.

    A service with several kinds of rows names its parameters after them (`{habit_id}`,
    `{goal_id}`): the security walk learns ids by those names (`servicekit.api_caller`)."""

    async def load(db: DbSession, **path: uuid.UUID) -> M:
        return await repository.get_or_404(db, path[param], for_update=for_update)

    # FastAPI reads parameters from the signature: expose the path parameter under its name.
    load.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=uuid.UUID),
            inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
        ]
    )
    return load
