from __future__ import annotations

from fastapi import APIRouter

from coaching.suggestions import service
from coaching.suggestions.schemas import SuggestionPublic, Suggestions
from servicekit.deps import DbSession

router = APIRouter(prefix="/suggestions", tags=["suggestions"])


@router.get("")
async def list_suggestions(db: DbSession) -> Suggestions:
    """Goals and habits your Future-You persona suggested, not yet adopted: adopt one with
    `POST /goals` or `POST /habits` and `from_persona_suggestion`. At most 12 (6 of each)."""
    rows = [SuggestionPublic.model_validate(s, from_attributes=True) for s in await service.open_suggestions(db)]
    return Suggestions(goals=[s for s in rows if s.kind == "goal"], habits=[s for s in rows if s.kind == "habit"])
