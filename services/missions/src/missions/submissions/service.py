"""Submissions: receive (stream, store, record, announce), read, list, download."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.missions import SubmissionReceived
from missions.catalog import repository as catalog_repository
from missions.enrollments import repository as enrollments_repository
from missions.files.storage import ObjectStorage
from missions.models import Enrollment, Mission, Submission, SubmissionFile
from missions.settings import MissionsSettings
from missions.submissions import repository
from missions.submissions.schemas import (
    FilePublic,
    ReviewPublic,
    SubmissionPublic,
    SubmissionsPage,
    SubmissionSummary,
)
from missions.submissions.upload import StagedSubmission, discard, receive_submission
from servicekit.db import user_transaction
from servicekit.errors import Conflict, NotFound
from servicekit.events import emit
from servicekit.idempotency import idempotent
from servicekit.pagination import PageParams

PREFIX = "/api/v1/missions"


async def submit(
    engine: AsyncEngine,
    request: Request,
    storage: ObjectStorage,
    settings: MissionsSettings,
    user_id: uuid.UUID,
    enrollment_id: uuid.UUID,
    key: str | None,
) -> JSONResponse:
    """Stream the body into storage with no transaction open, then record it in one short
    transaction; whatever goes wrong, or a replayed Idempotency-Key, leaves no file behind."""
    async with user_transaction(engine, user_id) as db:
        await enrollments_repository.enrollments.get_or_404(db, enrollment_id)  # 404 before reading the body
    staged = await receive_submission(request.headers.get("content-type"), request.stream(), storage, settings, user_id)
    recorded = False
    try:
        async with user_transaction(engine, user_id) as db:

            async def record() -> SubmissionPublic:
                nonlocal recorded
                public = await _record(db, settings, user_id, enrollment_id, staged)
                recorded = True
                return public

            response = await idempotent(
                db,
                request,
                key,
                record,
                status_code=202,
                fingerprint=staged.fingerprint(request.method, request.url.path),
            )
    except BaseException:
        await discard(storage, staged)
        raise
    if not recorded:  # the first answer was replayed: these copies are not needed
        await discard(storage, staged)
    # The answer's id: on a replay it is the first request's submission, not the copy just discarded.
    response.headers["Location"] = f"{PREFIX}/submissions/{json.loads(bytes(response.body))['id']}"
    response.headers["Retry-After"] = str(settings.review_retry_after_seconds)
    return response


async def _record(
    db: AsyncSession, settings: MissionsSettings, user_id: uuid.UUID, enrollment_id: uuid.UUID, staged: StagedSubmission
) -> SubmissionPublic:
    enrollment = await enrollments_repository.by_id_for_update(db, enrollment_id)
    if enrollment is None:
        raise NotFound(f"enrollment {enrollment_id} does not exist")
    if enrollment.status != "active":
        raise Conflict(f"the enrollment is {enrollment.status}: start the mission again to submit more")
    if await repository.pending_count(db, enrollment.id):
        raise Conflict("the previous submission is still being reviewed; resubmit once its review is in")
    if enrollment.submissions_count >= settings.max_submissions_per_enrollment:
        raise Conflict(f"this enrollment allows {settings.max_submissions_per_enrollment} submissions")
    mission = await catalog_repository.version(db, enrollment.mission_id, enrollment.mission_version)
    assert mission is not None  # a foreign key holds it
    now = datetime.now(UTC)
    submission = await repository.submissions.add(
        db,
        Submission(
            id=staged.id,
            user_id=user_id,
            enrollment_id=enrollment.id,
            attempt=enrollment.submissions_count + 1,
            text=staged.text,
            created_at=now,
        ),
    )
    rows = [
        SubmissionFile(
            id=f.id,
            user_id=user_id,
            submission_id=submission.id,
            position=f.position,
            filename=f.filename,
            content_type=f.content_type,
            size_bytes=f.stored.size,
            sha256=f.stored.sha256,
            storage_key=f.stored.key,
            created_at=now,
        )
        for f in staged.files
    ]
    await repository.add_files(db, rows)
    await enrollments_repository.enrollments.update(
        db, enrollment, {"submissions_count": enrollment.submissions_count + 1, "updated_at": now}
    )
    received = SubmissionReceived(
        submission_id=submission.id,
        enrollment_id=enrollment.id,
        mission_id=mission.id,
        mission_title=mission.title,
        attempt=submission.attempt,
        text_chars=len(submission.text),
        file_count=len(rows),
        received_at=now,
    )
    await emit(db, received, user_id=user_id)
    return public(submission, enrollment, mission, rows)


def _file_public(row: SubmissionFile) -> FilePublic:
    return FilePublic(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        url=f"{PREFIX}/submissions/{row.submission_id}/files/{row.id}",
    )


def public(
    submission: Submission, enrollment: Enrollment, mission: Mission, files: Sequence[SubmissionFile]
) -> SubmissionPublic:
    review = None
    if submission.status == "scored" and submission.review is not None:
        review = ReviewPublic.model_validate(
            {**submission.review, "provider": submission.provider, "fallback": submission.fallback}
        )
    return SubmissionPublic(
        id=submission.id,
        enrollment_id=enrollment.id,
        mission_id=mission.id,
        mission_title=mission.title,
        attempt=submission.attempt,
        text=submission.text,
        status=submission.status,
        files=[_file_public(f) for f in files],
        review=review,
        created_at=submission.created_at,
        reviewed_at=submission.reviewed_at,
    )


async def _missions_of(db: AsyncSession, enrollment_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[Enrollment, Mission]]:
    enrollments = {e.id: e for e in await enrollments_repository.by_ids(db, enrollment_ids)}
    missions = await catalog_repository.versions(db, {(e.mission_id, e.mission_version) for e in enrollments.values()})
    return {i: (e, missions[(e.mission_id, e.mission_version)]) for i, e in enrollments.items()}


async def get(db: AsyncSession, submission_id: uuid.UUID) -> SubmissionPublic:
    submission = await repository.submissions.get_or_404(db, submission_id)
    enrollment, mission = (await _missions_of(db, {submission.enrollment_id}))[submission.enrollment_id]
    files = (await repository.files_of(db, [submission.id]))[submission.id]
    return public(submission, enrollment, mission, files)


async def page(db: AsyncSession, params: PageParams, enrollment_id: uuid.UUID | None) -> SubmissionsPage:
    where = [col(Submission.enrollment_id) == enrollment_id] if enrollment_id is not None else []
    rows = await repository.submissions.page(db, params, *where)
    context = await _missions_of(db, {s.enrollment_id for s in rows.items})
    files = await repository.files_of(db, [s.id for s in rows.items])
    items = [
        SubmissionSummary(
            id=s.id,
            enrollment_id=s.enrollment_id,
            mission_id=context[s.enrollment_id][1].id,
            mission_title=context[s.enrollment_id][1].title,
            attempt=s.attempt,
            status=s.status,
            overall_score=s.overall_score,
            verdict=s.verdict,
            file_count=len(files[s.id]),
            created_at=s.created_at,
            reviewed_at=s.reviewed_at,
        )
        for s in rows.items
    ]
    return SubmissionsPage(items=items, next_cursor=rows.next_cursor)


async def file_for_download(db: AsyncSession, submission_id: uuid.UUID, file_id: uuid.UUID) -> SubmissionFile:
    await repository.submissions.get_or_404(db, submission_id)
    row = await repository.file_of_submission(db, submission_id, file_id)
    if row is None:
        raise NotFound(f"file {file_id} does not exist")
    return row


async def stream_file(storage: ObjectStorage, row: SubmissionFile) -> AsyncIterator[bytes]:
    async for chunk in storage.read(row.storage_key):
        yield chunk
