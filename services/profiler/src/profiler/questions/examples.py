"""A complete, valid set of answers to the current question bank: what a student who answers
every required question might send. Tests, fault drills and benches drive sessions with it;
a test checks it stays valid as the bank changes."""

from __future__ import annotations

from typing import Any

EXAMPLE_ANSWERS: dict[str, Any] = {
    "values_core": ["curiosity", "creativity"],
    "strengths_top": ["problem_solving", "persistence"],
    "strengths_confidence": 4,
    "interests_subjects": ["science", "technology"],
    "interests_free_time": "building_things",
    "study_best_time": "morning",
    "study_focus": 7,
    "study_planning": "rough_list",
    "career_fields": ["engineering", "research"],
    "career_clarity": 3,
    "career_dream": "designing robots that help farmers",
}
