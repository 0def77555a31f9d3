"""Missions events (the catalogue in docs/events.md is generated from these classes).

Each event carries what a per-user view (the dashboard) needs without asking missions: the
mission's title, skill and difficulty, the enrollment and submission ids, and for reviews the
scores, the verdict and the next step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.payload import EventPayload

Verdict = Literal["pass", "resubmit"]


class EnrollmentStarted(EventPayload):
    """Emitted by `POST /catalog/{mission_id}/start`, in the transaction that creates the
    enrollment (after the tier limits allowed it). A replay of the same Idempotency-Key emits
    nothing more."""

    SUBJECT = "journey.missions.enrollment.started"

    enrollment_id: uuid.UUID = Field(description="The new enrollment (status `active`).")
    mission_id: str = Field(description="The mission's stable slug, e.g. `research-local-water-quality`.")
    mission_title: str = Field(description="The mission's title at the catalogue version started.")
    catalog_version: int = Field(description="Catalogue version of the mission the enrollment is bound to.")
    skill: str = Field(description="The mission's main skill, e.g. `research`, `writing`, `coding`.")
    tags: list[str] = Field(description="The mission's skill and interest tags (lowercase).")
    difficulty: int = Field(description="1 (starter) to 5 (stretch).")
    estimated_minutes: int = Field(description="The catalogue's estimate of the time the mission takes.")
    started_at: datetime = Field(description="When the enrollment was created (UTC).")


class SubmissionReceived(EventPayload):
    """Work for the review job. Emitted by `POST /enrollments/{id}/submissions`, in the
    transaction that records the submission (its files are already stored). The missions worker
    reviews it (servicekit.ai_job: load, the model or the offline rules with no transaction open,
    store with the inbox claim) and emits `submission.reviewed`."""

    SUBJECT = "journey.missions.submission.received"

    submission_id: uuid.UUID = Field(description="The submission to review (review `pending`).")
    enrollment_id: uuid.UUID = Field(description="Its enrollment.")
    mission_id: str = Field(description="The mission's slug.")
    mission_title: str = Field(description="The mission's title.")
    attempt: int = Field(description="1 for the first submission of the enrollment, 2 for the first resubmission...")
    text_chars: int = Field(description="Length of the submission's text part, in characters.")
    file_count: int = Field(description="Number of files stored with it (0 to the per-submission maximum).")
    received_at: datetime = Field(description="When the submission was stored (UTC).")


class CriterionScore(BaseModel):
    """One rubric criterion as the review scored it."""

    model_config = ConfigDict(frozen=True)

    criterion_id: str = Field(description="The rubric criterion's id, e.g. `evidence`.")
    name: str = Field(description="The criterion's name, e.g. `Evidence and sources`.")
    weight: float = Field(description="Its weight in the overall score (the rubric's weights sum to 1).")
    level: int = Field(description="The level reached, 1 to `max_level`.")
    max_level: int = Field(description="The rubric's highest level for this criterion.")
    level_label: str = Field(description="The rubric's descriptor of the level reached.")
    score: float = Field(description="`level / max_level * 100`, rounded to one decimal.")


class SubmissionReviewed(EventPayload):
    """Emitted by the review job when a submission's review is stored (review `scored`), in the
    same transaction. A pass also emits `mission.completed`; a resubmit leaves the enrollment
    active, open to another submission while `resubmissions_left` is above 0."""

    SUBJECT = "journey.missions.submission.reviewed"

    submission_id: uuid.UUID = Field(description="The reviewed submission.")
    enrollment_id: uuid.UUID = Field(description="Its enrollment.")
    mission_id: str = Field(description="The mission's slug.")
    mission_title: str = Field(description="The mission's title.")
    attempt: int = Field(description="Which submission of the enrollment this was (1-based).")
    overall_score: float = Field(description="Weighted score over the rubric, 0-100, one decimal.")
    verdict: Verdict = Field(description="`pass` (the mission is completed) or `resubmit`.")
    criteria_scores: list[CriterionScore] = Field(
        description="Per rubric criterion: id, name, weight, level reached, max level, its descriptor and score."
    )
    strengths: list[str] = Field(description="1-3 things the submission does well.")
    next_step: str = Field(description="One concrete next step for the student.")
    resubmissions_left: int = Field(description="Further submissions the enrollment still allows (0 after a pass).")
    provider: str = Field(description="`openai` or `offline`: the path that wrote the review.")
    fallback: bool = Field(
        description="`true` when the offline reviewer stood in for the configured model (invalid answer after "
        "retries, or the daily AI budget used up)."
    )
    reviewed_at: datetime = Field(description="When the review was stored (UTC).")


class MissionCompleted(EventPayload):
    """Emitted by the review job, in the transaction that stores a `pass` review and marks the
    enrollment `completed`. Once per enrollment."""

    SUBJECT = "journey.missions.mission.completed"

    enrollment_id: uuid.UUID = Field(description="The completed enrollment.")
    mission_id: str = Field(description="The mission's slug.")
    mission_title: str = Field(description="The mission's title.")
    skill: str = Field(description="The mission's main skill.")
    tags: list[str] = Field(description="The mission's skill and interest tags.")
    difficulty: int = Field(description="1 (starter) to 5 (stretch).")
    submission_id: uuid.UUID = Field(description="The submission whose review passed.")
    overall_score: float = Field(description="Its weighted score, 0-100.")
    attempts: int = Field(description="Submissions it took (1 = passed first time).")
    completed_at: datetime = Field(description="When the enrollment was completed (UTC).")


# Subjects as constants, for call sites not yet on emit()/on().
ENROLLMENT_STARTED = EnrollmentStarted.SUBJECT
SUBMISSION_RECEIVED = SubmissionReceived.SUBJECT
SUBMISSION_REVIEWED = SubmissionReviewed.SUBJECT
MISSION_COMPLETED = MissionCompleted.SUBJECT
