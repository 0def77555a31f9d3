"""The seeded question bank. A new wording or option set is a new `BANK_VERSION`;
sessions keep the version they started on."""

from __future__ import annotations

from typing import Any

BANK_VERSION = 1


def _opts(*labels: str) -> list[dict[str, str]]:
    return [{"value": label.lower().replace("'", "").replace(" ", "_"), "label": label} for label in labels]


QUESTIONS: list[dict[str, Any]] = [
    # values
    {
        "id": "values_core",
        "category": "values",
        "kind": "multiple_choice",
        "required": True,
        "max_choices": 3,
        "prompt": "Which values matter most to you? Pick up to three.",
        "options": _opts(
            "Curiosity", "Kindness", "Independence", "Achievement", "Creativity", "Security", "Justice", "Adventure"
        ),
    },
    {
        "id": "values_proud_moment",
        "category": "values",
        "kind": "free_text",
        "required": False,
        "max_length": 500,
        "prompt": "Describe a moment when you felt proud of yourself.",
    },
    # strengths
    {
        "id": "strengths_top",
        "category": "strengths",
        "kind": "multiple_choice",
        "required": True,
        "max_choices": 3,
        "prompt": "What are you good at? Pick up to three.",
        "options": _opts(
            "Problem solving",
            "Communication",
            "Empathy",
            "Organisation",
            "Creativity",
            "Persistence",
            "Leadership",
            "Technical skills",
        ),
    },
    {
        "id": "strengths_confidence",
        "category": "strengths",
        "kind": "scale",
        "required": True,
        "scale_min": 1,
        "scale_max": 5,
        "scale_labels": ["not at all", "very"],
        "prompt": "How confident do you feel taking on a new challenge?",
    },
    {
        "id": "strengths_friends_ask",
        "category": "strengths",
        "kind": "free_text",
        "required": False,
        "max_length": 300,
        "prompt": "What do your friends come to you for?",
    },
    # interests
    {
        "id": "interests_subjects",
        "category": "interests",
        "kind": "multiple_choice",
        "required": True,
        "max_choices": 4,
        "prompt": "Which subjects pull you in? Pick up to four.",
        "options": _opts(
            "Science", "Technology", "Arts", "Languages", "Mathematics", "Social studies", "Sport", "Business"
        ),
    },
    {
        "id": "interests_free_time",
        "category": "interests",
        "kind": "single_choice",
        "required": True,
        "prompt": "How do you most like to spend free time?",
        "options": _opts(
            "Building things", "Reading or writing", "Helping others", "Exploring outdoors", "Gaming", "Making art"
        ),
    },
    {
        "id": "interests_talk_for_hours",
        "category": "interests",
        "kind": "free_text",
        "required": False,
        "max_length": 300,
        "prompt": "What topic could you talk about for hours?",
    },
    # study habits
    {
        "id": "study_best_time",
        "category": "study_habits",
        "kind": "single_choice",
        "required": True,
        "prompt": "When do you study best?",
        "options": _opts("Morning", "Afternoon", "Evening", "Late night"),
    },
    {
        "id": "study_focus",
        "category": "study_habits",
        "kind": "scale",
        "required": True,
        "scale_min": 1,
        "scale_max": 10,
        "scale_labels": ["I drift off fast", "I lock in"],
        "prompt": "How well can you focus for an hour without distractions?",
    },
    {
        "id": "study_planning",
        "category": "study_habits",
        "kind": "single_choice",
        "required": True,
        "prompt": "How do you plan your week?",
        "options": _opts("Detailed plan", "Rough list", "Day by day", "I don't plan"),
    },
    {
        "id": "study_obstacle",
        "category": "study_habits",
        "kind": "free_text",
        "required": False,
        "max_length": 300,
        "prompt": "What gets in the way of your studying most often?",
    },
    # career hopes
    {
        "id": "career_fields",
        "category": "career_hopes",
        "kind": "multiple_choice",
        "required": True,
        "max_choices": 3,
        "prompt": "Which fields could you see yourself working in? Pick up to three.",
        "options": _opts(
            "Healthcare",
            "Engineering",
            "Education",
            "Design",
            "Entrepreneurship",
            "Research",
            "Public service",
            "Media",
        ),
    },
    {
        "id": "career_clarity",
        "category": "career_hopes",
        "kind": "scale",
        "required": True,
        "scale_min": 1,
        "scale_max": 5,
        "scale_labels": ["no idea yet", "crystal clear"],
        "prompt": "How clear is your picture of your future career?",
    },
    {
        "id": "career_dream",
        "category": "career_hopes",
        "kind": "free_text",
        "required": True,
        "max_length": 500,
        "prompt": "In ten years, what would you love to be doing?",
    },
]
