from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from missions.catalog import service
from missions.catalog.schemas import CatalogPage
from servicekit.deps import DbSession

router = APIRouter(prefix="/catalog", tags=["catalog"])

Slug = Annotated[str | None, Query(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]


@router.get("")
async def list_catalog(
    db: DbSession,
    tag: Slug = None,
    skill: Slug = None,
    difficulty_min: Annotated[int | None, Query(ge=1, le=5)] = None,
    difficulty_max: Annotated[int | None, Query(ge=1, le=5)] = None,
    max_minutes: Annotated[int | None, Query(ge=1, le=10_000, description="longest estimated duration")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CatalogPage:
    """Live missions ordered by slug, filtered by tag, skill, difficulty and duration."""
    return await service.page(
        db,
        limit=limit,
        cursor=cursor,
        tag=tag,
        skill=skill,
        difficulty_min=difficulty_min,
        difficulty_max=difficulty_max,
        max_minutes=max_minutes,
    )
