"""The recommendation ranking: a pure function of the catalogue and what missions knows about
the student (persona tags, goals, habits, own history), the day and the user id.

Per mission (in progress or done ones are excluded):
- interests: +3 per persona mission tag the mission carries (at most two count);
- goals: +4 when a word of an active goal's title (4+ letters, lightly stemmed) appears in
  the mission's title, tags or brief; habits the same way, +2;
- history: +1 for the skill of a mission the student passed; difficulty is drawn to a target level
  (2, or 1 for a student we know nothing about, +1 per two passed missions, at most 5):
  -1 per level away from it;
- a deterministic jitter below 0.5 from (user, day, inputs, mission) breaks ties and rotates
  near-equals day by day: the list is stable for the day unless the inputs change.

The list takes the best missions with at most two per skill, and keeps one *stretch* (a
mission above the target level, the best such) when there is one. Every item says why, built
from the facts that scored it; a student with no facts gets short, easy starters across skills."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date

STOP_WORDS = frozenset(
    {
        "about",
        "after",
        "every",
        "from",
        "have",
        "into",
        "more",
        "most",
        "than",
        "that",
        "their",
        "them",
        "then",
        "this",
        "with",
        "your",
        "week",
        "weeks",
        "daily",
        "minutes",
        "start",
        "better",
        "least",
        "each",
        "make",
    }
)
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class MissionCard:
    id: str
    title: str
    brief: str
    skill: str
    tags: tuple[str, ...]
    difficulty: int
    estimated_minutes: int


@dataclass(frozen=True)
class PastMission:
    mission_id: str
    skill: str
    status: str  # active | completed | closed
    best_score: float | None = None


@dataclass(frozen=True)
class StudentFacts:
    interests: tuple[str, ...] = ()  # persona mission tags
    persona_name: str | None = None
    goals: tuple[str, ...] = ()  # active goal titles
    habits: tuple[str, ...] = ()  # active habit names
    history: tuple[PastMission, ...] = ()

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()

    @property
    def knows_nothing(self) -> bool:
        return not (self.interests or self.goals or self.habits or self.history)


@dataclass(frozen=True)
class Recommendation:
    mission: MissionCard
    score: float
    reasons: tuple[str, ...]
    stretch: bool = False
    why: str = field(default="")


def _stem(word: str) -> str:
    """A light stem: `blogs`, `blogging` and `blogged` all become `blog`."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word[-1] == word[-2] else word


def _keywords(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in STOP_WORDS}


def _mission_words(mission: MissionCard) -> set[str]:
    return _keywords(" ".join([mission.title, mission.brief, *mission.tags]).replace("_", " "))


def target_level(facts: StudentFacts) -> int:
    passed = sum(1 for p in facts.history if p.status == "completed")
    base = 1 if facts.knows_nothing else 2
    return min(5, base + passed // 2)


def _jitter(user_id: uuid.UUID, day: date, inputs: str, mission_id: str) -> float:
    digest = hashlib.sha256(f"{user_id}|{day.isoformat()}|{inputs}|{mission_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 * 0.5


def _label(tag: str) -> str:
    return tag.replace("_", " ")


def _score(mission: MissionCard, facts: StudentFacts, level: int) -> tuple[float, list[str]]:
    score = 0.0
    reasons: list[str] = []
    interests = [t for t in mission.tags if t in facts.interests][:2]
    if interests:
        score += 3 * len(interests)
        reasons.append("matches your interest in " + " and ".join(_label(t) for t in interests))
    words = _mission_words(mission)
    goal = next((g for g in facts.goals if _keywords(g) & words), None)
    if goal is not None:
        score += 4
        reasons.append(f"fits your goal '{goal}'")
    habit = next((h for h in facts.habits if _keywords(h) & words), None)
    if habit is not None:
        score += 2
        reasons.append(f"builds on your habit '{habit}'")
    passed = [p for p in facts.history if p.status == "completed" and p.skill == mission.skill]
    if passed:
        score += 1
        best = max((p.best_score for p in passed if p.best_score is not None), default=None)
        scored = f" (best score {best:.0f})" if best is not None else ""
        reasons.append(f"continues your {mission.skill} missions{scored}")
    score -= abs(mission.difficulty - level)
    return score, reasons


def _why(recommendation: Recommendation, level: int, knows_nothing: bool) -> str:
    mission = recommendation.mission
    parts = list(recommendation.reasons)
    if len(parts) > 1 and parts[0].startswith("matches ") and parts[1].startswith("fits your goal"):
        parts[1] = parts[1].removeprefix("fits ")  # "matches your interest in x and your goal 'y'"
    if recommendation.stretch:
        parts.append(f"a stretch: difficulty {mission.difficulty}, above your level {level}")
    if not parts:
        if knows_nothing:
            parts.append(
                f"a good first mission: {mission.estimated_minutes} minutes, difficulty {mission.difficulty}, "
                f"to try {mission.skill}"
            )
        else:
            parts.append(f"something new to try: {mission.skill} at difficulty {mission.difficulty}")
    text = parts[0]
    if len(parts) > 1:
        text = ", ".join(parts[:-1]) + " and " + parts[-1]
    sentence = text[0].upper() + text[1:]
    return sentence if sentence.endswith(".") else sentence + "."


def rank(
    missions: list[MissionCard], facts: StudentFacts, *, user_id: uuid.UUID, day: date, limit: int = 5
) -> list[Recommendation]:
    """The `limit` best missions for the student, each with its reasons (see the module doc)."""
    taken = {p.mission_id for p in facts.history if p.status in ("active", "completed")}
    level = target_level(facts)
    inputs = facts.fingerprint()
    scored = []
    for mission in missions:
        if mission.id in taken:
            continue
        score, reasons = _score(mission, facts, level)
        if facts.knows_nothing:
            score -= mission.estimated_minutes / 120  # starters: short ones first
        scored.append(
            Recommendation(mission, round(score + _jitter(user_id, day, inputs, mission.id), 4), tuple(reasons))
        )
    scored.sort(key=lambda r: (-r.score, r.mission.id))

    chosen: list[Recommendation] = []
    per_skill: dict[str, int] = {}
    for candidate in scored:
        if len(chosen) == limit:
            break
        if per_skill.get(candidate.mission.skill, 0) >= 2:
            continue
        chosen.append(candidate)
        per_skill[candidate.mission.skill] = per_skill.get(candidate.mission.skill, 0) + 1
    if limit >= 2 and not any(c.mission.difficulty > level for c in chosen):
        stretch = next((c for c in scored if c.mission.difficulty > level and c not in chosen), None)
        if stretch is not None:
            chosen = [*chosen[: limit - 1], stretch] if len(chosen) >= limit else [*chosen, stretch]
    final = []
    for item in chosen:
        is_stretch = item.mission.difficulty > level
        marked = Recommendation(item.mission, item.score, item.reasons, is_stretch)
        final.append(
            Recommendation(item.mission, item.score, item.reasons, is_stretch, _why(marked, level, facts.knows_nothing))
        )
    return final
