"""The small fixed set of reflection prompts (ids are stable: reflections store them)."""

from __future__ import annotations

PROMPTS: dict[str, str] = {
    "went_well": "What went well today, and why?",
    "hard_part": "What was hard today? What would make it easier tomorrow?",
    "proud": "What are you proud of this week?",
    "learned": "What did you learn today that surprised you?",
    "habit_check": "How did your habits feel today: easy, hard, forgotten?",
    "goal_step": "What is the next small step toward your goal?",
    "grateful": "Name three things you are grateful for.",
    "future_you": "What would your Future-You tell you about today?",
}
