"""The review job (servicekit.ai_job): load the submission and its rubric, ask the model (paid
tiers with `model_ai`, within the daily budget) or the offline rules, store the scored review
and announce it; a pass completes the enrollment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.missions import CriterionScore, MissionCompleted, SubmissionReceived, SubmissionReviewed
from entitlements.guard import model_ai_allowed
from missions.catalog import repository as catalog_repository
from missions.catalog.rubrics import Rubric
from missions.enrollments import repository as enrollments_repository
from missions.files.storage import ObjectStorage
from missions.models import Submission
from missions.reviews import repository
from missions.reviews.offline_reviewer import METHOD, FileFacts, SubmissionFacts, review_offline
from missions.reviews.schemas import Review, ReviewAnswer, answer_schema
from missions.reviews.scoring import score
from servicekit.ai import AIResult, StructuredTask
from servicekit.ai_job import AIJob
from servicekit.events import Event, emit
from servicekit.logging import get_logger

log = get_logger(__name__)

INSTRUCTIONS = (
    "You review a student's mission submission against the rubric given. For every rubric criterion, "
    "pick the level (1 = lowest) whose descriptor fits the submission best and say why in one or two "
    "sentences that cite the submission. Then name 1-3 strengths and exactly one concrete next step. "
    "Images and PDFs are described by name and size only: do not pretend to have seen them. "
    "Answer only with JSON matching the schema."
)
MODEL_METHOD = (
    "Reviewed by a language model against the rubric, from the text and the text files; images and PDFs "
    "were known to it by name and size only."
)
TEXT_FILE_CHARS = 20_000  # of each text file, for the reviewer


async def _text_of(storage: ObjectStorage, key: str) -> str:
    chunks = [chunk async for chunk in storage.read(key, limit=TEXT_FILE_CHARS * 4)]
    return b"".join(chunks).decode("utf-8", errors="ignore")[:TEXT_FILE_CHARS]


def review_job(storage: ObjectStorage, *, max_submissions: int) -> AIJob[SubmissionReceived, ReviewAnswer]:
    """The job, reading text files from `storage`; `max_submissions` per enrollment."""

    async def load(
        db: AsyncSession, received: SubmissionReceived, _event: Event
    ) -> StructuredTask[ReviewAnswer] | None:
        submission = await repository.submission(db, received.submission_id)
        if submission is None or submission.status != "pending":
            log.info("review_skip", submission_id=str(received.submission_id), reason="missing or already reviewed")
            return None
        enrollment = await enrollments_repository.enrollments.get_or_404(db, submission.enrollment_id)
        mission = await catalog_repository.version(db, enrollment.mission_id, enrollment.mission_version)
        assert mission is not None
        rubric = Rubric.model_validate(mission.rubric)
        files = []
        for row in await repository.files(db, submission.id):
            text = await _text_of(storage, row.storage_key) if row.content_type == "text/plain" else None
            files.append(FileFacts(row.filename, row.content_type, row.size_bytes, text))
        facts = SubmissionFacts(
            text=submission.text,
            files=tuple(files),
            min_words=mission.min_words,
            wants_files="files" in mission.deliverables,
        )
        model_input = {
            "mission": {"title": mission.title, "brief": mission.brief, "steps": mission.steps},
            "rubric": [
                {"criterion_id": c.id, "name": c.name, "weight": c.weight, "levels": c.levels} for c in rubric.criteria
            ],
            "submission": {
                "text": submission.text,
                "files": [
                    {"name": f.filename, "type": f.content_type, "size_bytes": f.size_bytes, "text": f.text}
                    for f in files
                ],
            },
        }
        return StructuredTask(
            name="mission_review",
            instructions=INSTRUCTIONS,
            input=model_input,
            schema=answer_schema(rubric),
            offline=lambda: review_offline(rubric, facts),
        )

    async def store(
        db: AsyncSession, received: SubmissionReceived, event: Event, result: AIResult[ReviewAnswer]
    ) -> None:
        submission = await repository.submission(db, received.submission_id, for_update=True)
        if submission is None or submission.status != "pending":
            return
        await _store_review(db, submission, event.user_id(), result, max_submissions)

    return AIJob(
        payload=SubmissionReceived,
        durable="missions-reviewer",
        load=load,
        store=store,
        allows_model=model_ai_allowed,
    )


async def _store_review(
    db: AsyncSession,
    submission: Submission,
    user_id: uuid.UUID | None,
    result: AIResult[ReviewAnswer],
    max_submissions: int,
) -> None:
    enrollment = await enrollments_repository.by_id_for_update(db, submission.enrollment_id)
    assert enrollment is not None
    mission = await catalog_repository.version(db, enrollment.mission_id, enrollment.mission_version)
    assert mission is not None
    rubric = Rubric.model_validate(mission.rubric)
    overall, verdict, criteria = score(rubric, result.value)
    method = MODEL_METHOD if result.provider != "offline" else METHOD
    review = Review(
        overall_score=overall,
        verdict=verdict,
        criteria=criteria,
        strengths=result.value.strengths,
        next_step=result.value.next_step,
        method=method,
    )
    now = datetime.now(UTC)
    await repository.update_submission(
        db,
        submission,
        {
            "status": "scored",
            "overall_score": overall,
            "verdict": verdict,
            "review": review.model_dump(mode="json"),
            "provider": result.provider,
            "fallback": result.fallback,
            "fallback_reason": result.reason,
            "reviewed_at": now,
        },
    )
    left = max(0, max_submissions - enrollment.submissions_count)
    changes: dict[str, object] = {"updated_at": now}
    if verdict == "pass":
        changes |= {"status": "completed", "ended_at": now}
        left = 0
    elif left == 0:
        changes |= {"status": "closed", "ended_at": now}
    await enrollments_repository.enrollments.update(db, enrollment, changes)
    reviewed = SubmissionReviewed(
        submission_id=submission.id,
        enrollment_id=enrollment.id,
        mission_id=mission.id,
        mission_title=mission.title,
        attempt=submission.attempt,
        overall_score=overall,
        verdict=verdict,
        criteria_scores=[CriterionScore.model_validate(c.model_dump(exclude={"comment"})) for c in criteria],
        strengths=review.strengths,
        next_step=review.next_step,
        resubmissions_left=left,
        provider=result.provider,
        fallback=result.fallback,
        reviewed_at=now,
    )
    await emit(db, reviewed, user_id=user_id)
    if verdict == "pass":
        completed = MissionCompleted(
            enrollment_id=enrollment.id,
            mission_id=mission.id,
            mission_title=mission.title,
            skill=mission.skill,
            tags=mission.tags,
            difficulty=mission.difficulty,
            submission_id=submission.id,
            overall_score=overall,
            attempts=submission.attempt,
            completed_at=now,
        )
        await emit(db, completed, user_id=user_id)
