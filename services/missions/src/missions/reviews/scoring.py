"""From rubric levels to scores and a verdict: pure, the same for the model's and the offline
reviewer's answers."""

from __future__ import annotations

from contracts.missions import Verdict
from missions.catalog.rubrics import Rubric
from missions.reviews.schemas import ReviewAnswer, ScoredCriterion


def criterion_score(level: int, max_level: int) -> float:
    return round(level / max_level * 100, 1)


def score(rubric: Rubric, answer: ReviewAnswer) -> tuple[float, Verdict, list[ScoredCriterion]]:
    """Per-criterion scores (`level / max * 100`), the weighted overall score and the verdict:
    `pass` when the overall score reaches the rubric's pass score and no criterion sits at
    level 1, otherwise `resubmit`."""
    levels = {j.criterion_id: j for j in answer.criteria}
    scored = []
    for criterion in rubric.criteria:
        judgement = levels[criterion.id]
        level = max(1, min(judgement.level, criterion.max_level))
        scored.append(
            ScoredCriterion(
                criterion_id=criterion.id,
                name=criterion.name,
                weight=criterion.weight,
                level=level,
                max_level=criterion.max_level,
                level_label=criterion.levels[level - 1],
                score=criterion_score(level, criterion.max_level),
                comment=judgement.comment,
            )
        )
    overall = round(sum(c.weight * c.score for c in scored), 1)
    passed = overall >= rubric.pass_score and all(c.level > 1 for c in scored)
    return overall, ("pass" if passed else "resubmit"), scored
