from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from missions.files.deps import request_storage
from missions.files.storage import ObjectStorage
from missions.settings import MissionsSettings
from missions.submissions import service
from missions.submissions.schemas import SubmissionPublic, SubmissionsPage
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession, Engine
from servicekit.idempotency import IdempotencyKey
from servicekit.openapi import problem_responses
from servicekit.pagination import PageParams, page_params

Storage = Annotated[ObjectStorage, Depends(request_storage)]


def _upload_body(settings: MissionsSettings) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["text"],
                        "properties": {
                            "text": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": settings.max_text_chars,
                                "description": "The write-up.",
                            },
                            "files": {
                                "type": "array",
                                "maxItems": settings.max_files_per_submission,
                                "items": {"type": "string", "format": "binary"},
                                "description": f"PDF, PNG, JPEG or plain text/Markdown, each at most "
                                f"{settings.max_file_bytes} bytes, {settings.max_submission_bytes} bytes together; "
                                "typed by their bytes, never by name or declared type.",
                            },
                        },
                    }
                }
            },
        }
    }


def _attachment(filename: str) -> str:
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def build_router(settings: MissionsSettings) -> APIRouter:
    router = APIRouter(tags=["submissions"])

    @router.post(
        "/enrollments/{enrollment_id}/submissions",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=SubmissionPublic,
        max_body_size=settings.submission_body_limit,
        openapi_extra=_upload_body(settings),
        responses=problem_responses(
            (400, "the multipart body is malformed"),
            (404, "no such enrollment"),
            (409, "the enrollment is not active, a review is pending or no submissions are left"),
            (413, "a file or the submission is over its size cap"),
            (415, "not multipart/form-data, or a file's detected type is not allowed"),
            (422, "missing or empty text, too many files, a bad file name"),
        ),
    )
    async def submit(
        enrollment_id: uuid.UUID,
        request: Request,
        engine: Engine,
        principal: CurrentPrincipal,
        storage: Storage,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """A submission: multipart with a `text` field and up to N `files`; 202, reviewed by the worker."""
        return await service.submit(
            engine, request, storage, settings, principal.user_id, enrollment_id, idempotency_key
        )

    @router.get("/submissions")
    async def list_submissions(
        db: DbSession,
        params: Annotated[PageParams, Depends(page_params)],
        enrollment_id: Annotated[uuid.UUID | None, Query()] = None,
    ) -> SubmissionsPage:
        """The caller's submissions, newest first."""
        return await service.page(db, params, enrollment_id)

    @router.get("/submissions/{submission_id}", responses=problem_responses((404, "no such submission")))
    async def get_submission(submission_id: uuid.UUID, db: DbSession) -> JSONResponse:
        """One submission with its review (`status` pending until the review is in; then scored)."""
        found = await service.get(db, submission_id)
        headers = {"Retry-After": str(settings.review_retry_after_seconds)} if found.status == "pending" else None
        return JSONResponse(found.model_dump(mode="json"), headers=headers)

    @router.get(
        "/submissions/{submission_id}/files/{file_id}",
        response_class=StreamingResponse,
        responses={
            200: {"description": "the file, as an attachment, with its detected type", "content": {"*/*": {}}},
            **problem_responses((404, "no such submission or file")),
        },
    )
    async def download_file(
        submission_id: uuid.UUID, file_id: uuid.UUID, db: DbSession, storage: Storage
    ) -> StreamingResponse:
        """The stored file (owner only), streamed as an attachment with `nosniff`."""
        row = await service.file_for_download(db, submission_id, file_id)
        return StreamingResponse(
            service.stream_file(storage, row),
            media_type=row.content_type,
            headers={
                "Content-Disposition": _attachment(row.filename),
                "Content-Length": str(row.size_bytes),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    return router
