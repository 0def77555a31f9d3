from __future__ import annotations

from profiler.personas.offline_writer import write_persona
from profiler.personas.schemas import PersonaContent
from profiler.questions.bank import QUESTIONS

LABELS = {q["id"]: {o["value"]: o["label"] for o in q.get("options", [])} for q in QUESTIONS}

ADA = {
    "values_core": ["curiosity"],
    "strengths_top": ["problem_solving", "technical_skills"],
    "strengths_confidence": 5,
    "interests_subjects": ["mathematics", "technology"],
    "interests_free_time": "building_things",
    "study_best_time": "morning",
    "study_focus": 9,
    "study_planning": "detailed_plan",
    "career_fields": ["engineering"],
    "career_clarity": 5,
    "career_dream": "building engines that compute",
    "values_proud_moment": "I fixed my grandmother's radio",
}
MAYA = {
    "values_core": ["kindness", "justice"],
    "strengths_top": ["empathy"],
    "strengths_confidence": 2,
    "interests_subjects": ["languages", "social_studies"],
    "interests_free_time": "helping_others",
    "study_best_time": "late_night",
    "study_focus": 3,
    "study_planning": "i_dont_plan",
    "career_fields": ["healthcare", "public_service"],
    "career_clarity": 1,
    "career_dream": "running a clinic in my home town",
    "study_obstacle": "my phone",
}


def test_persona_is_valid_and_quotes_the_student() -> None:
    persona = write_persona(ADA, LABELS)
    PersonaContent.model_validate(persona.model_dump())
    assert "building engines that compute" in persona.summary
    assert "building engines that compute" in persona.letter
    assert "I fixed my grandmother's radio" in persona.letter
    assert persona.name == "The Curious Builder"
    assert persona.strengths == ["Problem solving", "Technical skills"]
    assert "engineering" in persona.mission_tags


def test_different_answers_give_different_personas() -> None:
    ada, maya = write_persona(ADA, LABELS), write_persona(MAYA, LABELS)
    assert ada.name != maya.name
    assert maya.name == "The Kind-hearted Helper"
    assert ada.growth_areas != maya.growth_areas
    assert "Trusting yourself with new challenges" in maya.growth_areas
    assert "Planning your week ahead" in maya.growth_areas
    assert any("my phone" in area for area in maya.growth_areas)
    assert "Put the phone in another room for one study block a day" in maya.suggested_habits
    assert set(maya.mission_tags) == {"languages", "social_studies", "healthcare", "public_service"}


def test_question_bank_covers_every_category_and_kind() -> None:
    assert len(QUESTIONS) >= 12
    assert {q["category"] for q in QUESTIONS} == {"values", "strengths", "interests", "study_habits", "career_hopes"}
    assert {q["kind"] for q in QUESTIONS} == {"single_choice", "multiple_choice", "scale", "free_text"}
    assert {q["required"] for q in QUESTIONS} == {True, False}
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
