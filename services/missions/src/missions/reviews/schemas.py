"""What the reviewer answers (model or offline rules) and what a stored review holds."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from contracts.missions import CriterionScore, Verdict
from missions.catalog.rubrics import Rubric


class CriterionJudgement(BaseModel):
    criterion_id: str = Field(description="A criterion id of the rubric given.")
    level: int = Field(ge=1, le=10, description="The rubric level reached, 1 = lowest.")
    comment: str = Field(min_length=1, max_length=600, description="Why this level, citing the submission.")


class ReviewAnswer(BaseModel):
    """The reviewer's answer: a level per criterion, strengths and one next step. Scores and the
    verdict are computed from the levels by the service (missions.reviews.scoring), never taken
    from the model."""

    criteria: list[CriterionJudgement] = Field(min_length=1, max_length=5)
    strengths: list[str] = Field(min_length=1, max_length=3)
    next_step: str = Field(min_length=1, max_length=400)


def answer_schema(rubric: Rubric) -> type[ReviewAnswer]:
    """`ReviewAnswer` that also checks the answer against this rubric: each criterion exactly
    once, every level within the criterion's range. A model answer that fails is retried."""
    max_levels = {c.id: c.max_level for c in rubric.criteria}

    class RubricReviewAnswer(ReviewAnswer):
        @model_validator(mode="after")
        def _matches_rubric(self) -> RubricReviewAnswer:
            given = [c.criterion_id for c in self.criteria]
            if sorted(given) != sorted(max_levels):
                raise ValueError(f"criteria must be exactly {sorted(max_levels)}, got {given}")
            for judgement in self.criteria:
                if judgement.level > max_levels[judgement.criterion_id]:
                    raise ValueError(f"{judgement.criterion_id}: level above {max_levels[judgement.criterion_id]}")
            return self

    RubricReviewAnswer.__name__ = "ReviewAnswer"
    return RubricReviewAnswer


class ScoredCriterion(CriterionScore):
    comment: str


class Review(BaseModel):
    """A stored review (submissions.review)."""

    overall_score: float
    verdict: Verdict
    criteria: list[ScoredCriterion]
    strengths: list[str]
    next_step: str
    method: str = Field(description="What the reviewer could and could not judge.")
