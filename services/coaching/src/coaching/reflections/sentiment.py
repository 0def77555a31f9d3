"""Sentiment of a reflection: the answer's shape (for the model and for the offline scorer)
and the offline scorer itself, VADER's compound score with its usual thresholds."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's authors' thresholds on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

INSTRUCTIONS = (
    "You read a student's short journal reflection. Judge its overall sentiment and answer only with JSON "
    "matching the schema: label (positive, neutral or negative), score from -1 (very negative) to 1 (very "
    "positive), up to five short lowercase themes (one or two words each, e.g. 'exams', 'sleep', 'friends'), "
    "and one warm, supportive sentence addressed to the student (no advice lists, no diagnosis)."
)

Theme = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class SentimentContent(BaseModel):
    label: Literal["positive", "neutral", "negative"]
    score: float = Field(ge=-1.0, le=1.0)
    themes: list[Theme] = Field(default_factory=list, max_length=5)
    supportive_sentence: str = Field(min_length=1, max_length=300)


# Offline themes: a few words students write about, each mapped to a theme.
_THEMES: dict[str, tuple[str, ...]] = {
    "exams": ("exam", "exams", "test", "tests", "quiz", "grade", "grades"),
    "study": ("study", "studied", "studying", "homework", "revision", "lecture", "class", "assignment"),
    "sleep": ("sleep", "slept", "tired", "exhausted", "nap", "bed"),
    "friends": ("friend", "friends", "classmates", "team"),
    "family": ("family", "mum", "mom", "dad", "parents", "sister", "brother"),
    "exercise": ("run", "ran", "gym", "exercise", "workout", "sport", "football", "swim", "walk"),
    "reading": ("read", "reading", "book", "books", "pages"),
    "stress": ("stress", "stressed", "anxious", "anxiety", "worried", "overwhelmed", "pressure"),
    "health": ("sick", "ill", "headache", "health", "ate", "food"),
}
_WORD = re.compile(r"[a-z']+")

_SUPPORT = {
    "positive": "That sounds like a good day: notice what made it work, so you can do it again.",
    "neutral": "Thanks for taking a moment to write this down; small check-ins like this add up.",
    "negative": "That sounds hard. Be as kind to yourself as you would be to a friend: tomorrow is a new start.",
}


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def label_for(score: float) -> Literal["positive", "neutral", "negative"]:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def themes_in(text: str) -> list[str]:
    words = set(_WORD.findall(text.lower()))
    return [theme for theme, keys in _THEMES.items() if words.intersection(keys)][:5]


def score_offline(text: str) -> SentimentContent:
    """VADER's compound score (-1..1), its label, keyword themes and a template sentence."""
    compound = float(_analyzer().polarity_scores(text)["compound"])
    label = label_for(compound)
    return SentimentContent(
        label=label, score=round(compound, 4), themes=themes_in(text), supportive_sentence=_SUPPORT[label]
    )
