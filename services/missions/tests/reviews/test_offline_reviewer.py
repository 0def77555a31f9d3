from __future__ import annotations

from typing import Any

import pytest

from missions.catalog.content import CATALOG
from missions.catalog.rubrics import criterion, rubric
from missions.reviews.offline_reviewer import METHOD, FileFacts, SubmissionFacts, review_offline
from missions.reviews.schemas import CriterionJudgement, ReviewAnswer, answer_schema
from missions.reviews.scoring import score

WATER = next(m for m in CATALOG if m.id == "research-local-water-quality")
GOOD = """# What I found

I read the supplier's latest quality report and picked three measures: nitrate, hardness and bacteria.
The legal limit for nitrate is 50 mg/l; the report says 12 mg/l, so our source is well within it.

## My own test

- I took a sample from the kitchen tap and used a test strip to observe nitrate.
- I compared my result with the report: the strip showed about 10 mg/l.
- The attached photo shows the strip next to the colour chart.

## Summary

My result matches the report. Next I would measure the river upstream to compare sources.
""" + " ".join(["The measure and the source agree with the report."] * 20)


def test_the_same_submission_gets_the_same_review() -> None:
    facts = SubmissionFacts(GOOD, (FileFacts("strip.png", "image/png", 2000),), WATER.min_words, True)
    assert review_offline(WATER.rubric, facts) == review_offline(WATER.rubric, facts)


def test_a_thorough_submission_with_its_photo_passes() -> None:
    facts = SubmissionFacts(GOOD, (FileFacts("strip.png", "image/png", 2000),), WATER.min_words, True)
    overall, verdict, criteria = score(WATER.rubric, review_offline(WATER.rubric, facts))
    assert verdict == "pass"
    assert overall >= 60
    assert {c.criterion_id for c in criteria} == {"evidence", "method", "clarity", "deliverable"}


def test_a_missing_file_is_resubmit_and_the_next_step_says_attach_it() -> None:
    facts = SubmissionFacts(GOOD, (), WATER.min_words, True)
    answer = review_offline(WATER.rubric, facts)
    _overall, verdict, criteria = score(WATER.rubric, answer)
    assert verdict == "resubmit"
    assert next(c for c in criteria if c.criterion_id == "deliverable").level == 1
    assert "Attach the file" in answer.next_step


def test_a_thin_text_scores_low_and_is_told_to_expand() -> None:
    facts = SubmissionFacts("It was fine.", (FileFacts("a.png", "image/png", 10),), WATER.min_words, True)
    answer = review_offline(WATER.rubric, facts)
    overall, verdict, _ = score(WATER.rubric, answer)
    assert verdict == "resubmit"
    assert overall < 50
    assert f"at least {WATER.min_words} words" in answer.next_step


def test_key_terms_in_an_attached_text_file_count() -> None:
    thin = SubmissionFacts("See my notes.", (), 10, False)
    notes = FileFacts("notes.md", "text/plain", 100, "report limit nitrate source measure sample test observe compare")
    rich = SubmissionFacts("See my notes.", (notes,), 10, False)
    r = rubric(
        criterion("evidence", 0.5, "report", "limit", "nitrate"),
        criterion("method", 0.3, "sample"),
        criterion("clarity", 0.2),
    )
    assert score(r, review_offline(r, rich))[0] > score(r, review_offline(r, thin))[0]


def test_the_method_note_is_honest_about_what_it_cannot_judge() -> None:
    assert "cannot judge" in METHOD
    assert "images and PDFs" in METHOD


def test_scores_weights_and_the_level_one_rule() -> None:
    r = rubric(criterion("evidence", 0.5), criterion("method", 0.3), criterion("clarity", 0.2))
    answer = ReviewAnswer(
        criteria=[
            CriterionJudgement(criterion_id="evidence", level=4, comment="x"),
            CriterionJudgement(criterion_id="method", level=4, comment="x"),
            CriterionJudgement(criterion_id="clarity", level=1, comment="x"),
        ],
        strengths=["s"],
        next_step="n",
    )
    overall, verdict, criteria = score(r, answer)
    assert overall == 0.5 * 100 + 0.3 * 100 + 0.2 * 25
    assert verdict == "resubmit"  # a criterion at level 1 blocks a pass whatever the total
    assert [c.score for c in criteria] == [100.0, 100.0, 25.0]


def test_a_model_answer_must_cover_the_rubric_exactly() -> None:
    schema = answer_schema(WATER.rubric)
    criteria: list[dict[str, Any]] = [
        {"criterion_id": c.id, "level": 3, "comment": "ok"} for c in WATER.rubric.criteria
    ]
    good = {"criteria": criteria, "strengths": ["clear"], "next_step": "measure the river"}
    schema.model_validate(good)
    with pytest.raises(ValueError, match="criteria must be exactly"):
        schema.model_validate({**good, "criteria": criteria[:-1]})
    with pytest.raises(ValueError, match="level above"):
        schema.model_validate({**good, "criteria": [{**criteria[0], "level": 9}, *criteria[1:]]})
