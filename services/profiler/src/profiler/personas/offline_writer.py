"""The offline Future-You persona: written by rules from the student's own answers.

Different answers give different personas, and the text quotes what the student wrote.
"""

from __future__ import annotations

from typing import Any

from profiler.personas.schemas import PersonaContent

ADJECTIVE = {
    "curiosity": "Curious",
    "kindness": "Kind-hearted",
    "independence": "Independent",
    "achievement": "Driven",
    "creativity": "Inventive",
    "security": "Steady",
    "justice": "Principled",
    "adventure": "Adventurous",
}
NOUN = {
    "building_things": "Builder",
    "reading_or_writing": "Storyteller",
    "helping_others": "Helper",
    "exploring_outdoors": "Explorer",
    "gaming": "Strategist",
    "making_art": "Maker",
}
FIELD_GOAL = {
    "healthcare": "Shadow a nurse, doctor or therapist for a day",
    "engineering": "Build and finish one small engineering project",
    "education": "Tutor a younger student for a term",
    "design": "Create a portfolio of three design pieces",
    "entrepreneurship": "Launch a tiny side project and get its first user",
    "research": "Write a one-page research summary on a question you care about",
    "public_service": "Volunteer with a local organisation for a month",
    "media": "Publish five pieces of your own writing, video or audio",
}
TIME_HABIT = {
    "morning": "Study for 25 focused minutes before noon",
    "afternoon": "Do one focused study block right after classes",
    "evening": "Hold a 30-minute study block in the early evening",
    "late_night": "Stop screens 30 minutes before sleep and review one page of notes",
}


def _labels(options: dict[str, str], values: list[str]) -> list[str]:
    return [options.get(v, v.replace("_", " ")) for v in values]


def _join(items: list[str]) -> str:
    items = [i.lower() for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def write_persona(answers: dict[str, Any], labels: dict[str, dict[str, str]]) -> PersonaContent:
    """`answers` maps question id to stored value; `labels` maps question id to {value: label}."""
    values: list[str] = answers.get("values_core", ["curiosity"])
    strengths = _labels(labels.get("strengths_top", {}), answers.get("strengths_top", ["persistence"]))
    subjects: list[str] = answers.get("interests_subjects", [])
    fields: list[str] = answers.get("career_fields", [])
    free_time: str = answers.get("interests_free_time", "building_things")
    dream: str = answers.get("career_dream", "something I love")
    confidence: int = answers.get("strengths_confidence", 3)
    focus: int = answers.get("study_focus", 5)
    clarity: int = answers.get("career_clarity", 3)
    planning: str = answers.get("study_planning", "rough_list")
    best_time: str = answers.get("study_best_time", "evening")

    name = f"The {ADJECTIVE.get(values[0], 'Curious')} {NOUN.get(free_time, 'Builder')}"
    value_words = _join(_labels(labels.get("values_core", {}), values))
    field_words = _join(_labels(labels.get("career_fields", {}), fields)) if fields else "many directions"
    summary = (
        f"You are driven by {value_words}, and you already bring {_join(strengths)} to everything you try. "
        f'You are drawn towards {field_words}, and in ten years you hope to be "{dream}". '
        + (
            "You trust yourself with new challenges. "
            if confidence >= 4
            else "You are learning to trust yourself with new challenges. "
        )
        + ("Your focus is a real asset." if focus >= 7 else "Building deeper focus will multiply everything else.")
    )

    growth: list[str] = []
    if confidence <= 2:
        growth.append("Trusting yourself with new challenges")
    if focus <= 5:
        growth.append("Holding deep focus for an hour")
    if planning in ("day_by_day", "i_dont_plan"):
        growth.append("Planning your week ahead")
    if clarity <= 2:
        growth.append("Exploring which careers fit you")
    if obstacle := answers.get("study_obstacle"):
        growth.append(f'Working around what gets in the way: "{obstacle}"')
    if not growth:
        growth.append("Stretching into a field you have not tried yet")

    goals = [FIELD_GOAL[f] for f in fields if f in FIELD_GOAL] or ["Try three short missions in different fields"]
    if clarity <= 3:
        goals.append("Interview two people who do work you admire")
    habits = [TIME_HABIT.get(best_time, TIME_HABIT["evening"])]
    if planning != "detailed_plan":
        habits.append("Plan the week every Sunday in ten minutes")
    if focus <= 5:
        habits.append("Put the phone in another room for one study block a day")
    habits.append("Write three lines of reflection each evening")

    proud = answers.get("values_proud_moment")
    friends = answers.get("strengths_friends_ask")
    hours = answers.get("interests_talk_for_hours")
    letter_parts = [
        "Dear me,",
        f'I am writing from ten years ahead. You once wrote that you would love to be "{dream}". '
        "Keep that sentence close: it turned out to be a compass.",
    ]
    if proud:
        letter_parts.append(f'Remember when you felt proud because "{proud}"? That was not luck; that was you.')
    if friends:
        letter_parts.append(f'Friends came to you for "{friends}". That still matters more than you think.')
    if hours:
        letter_parts.append(f'And never stop talking about "{hours}" - it opened more doors than any grade.')
    letter_parts.append(
        f"What got us here was small and steady: {_join(strengths)}, practised a little every week. "
        "Start with one habit, keep it for a month, and be kind to yourself on the days you miss."
    )
    letter_parts.append("With pride, your future self")

    tags = list(dict.fromkeys([*subjects, *fields]))[:10] or ["exploration"]
    return PersonaContent(
        name=name,
        summary=summary,
        letter="\n\n".join(letter_parts),
        strengths=strengths[:6],
        growth_areas=growth[:6],
        suggested_goals=goals[:6],
        suggested_habits=habits[:6],
        mission_tags=tags,
    )
