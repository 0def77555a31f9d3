"""Recommendations: gather the facts under the caller's RLS, rank with the pure function."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from missions.catalog import repository as catalog_repository
from missions.enrollments import repository as enrollments_repository
from missions.recommendations import repository
from missions.recommendations.ranking import MissionCard, PastMission, StudentFacts, rank
from missions.recommendations.schemas import BasedOn, RecommendationPublic, Recommendations, RecommendedMission
from missions.submissions import repository as submissions_repository


async def student_facts(db: AsyncSession) -> StudentFacts:
    persona = await repository.persona(db)
    facts = await repository.active_facts(db)
    enrollments = await enrollments_repository.all_of_user(db)
    best: dict[uuid.UUID, float] = {}
    for submission in await submissions_repository.scored_of_user(db):
        if submission.overall_score is not None:
            best[submission.enrollment_id] = max(best.get(submission.enrollment_id, 0.0), submission.overall_score)
    missions = await catalog_repository.versions(db, {(e.mission_id, e.mission_version) for e in enrollments})
    history = tuple(
        PastMission(e.mission_id, missions[(e.mission_id, e.mission_version)].skill, e.status, best.get(e.id))
        for e in enrollments
    )
    return StudentFacts(
        interests=tuple(persona.mission_tags) if persona else (),
        persona_name=persona.name if persona else None,
        goals=tuple(f.title for f in facts if f.kind == "goal"),
        habits=tuple(f.title for f in facts if f.kind == "habit"),
        history=history,
    )


async def recommendations(db: AsyncSession, user_id: uuid.UUID, limit: int) -> Recommendations:
    facts = await student_facts(db)
    cards = [
        MissionCard(m.id, m.title, m.brief, m.skill, tuple(m.tags), m.difficulty, m.estimated_minutes)
        for m in await catalog_repository.live(db)
    ]
    day = datetime.now(UTC).date()
    ranked = rank(cards, facts, user_id=user_id, day=day, limit=limit)
    items = [
        RecommendationPublic(
            mission=RecommendedMission(
                id=r.mission.id,
                title=r.mission.title,
                skill=r.mission.skill,
                tags=list(r.mission.tags),
                difficulty=r.mission.difficulty,
                estimated_minutes=r.mission.estimated_minutes,
            ),
            why=r.why,
            reasons=list(r.reasons),
            stretch=r.stretch,
            score=r.score,
        )
        for r in ranked
    ]
    based_on = BasedOn(
        persona=facts.persona_name,
        interests=list(facts.interests),
        goals=list(facts.goals),
        habits=list(facts.habits),
        missions_completed=sum(1 for p in facts.history if p.status == "completed"),
    )
    return Recommendations(day=day, items=items, based_on=based_on)
