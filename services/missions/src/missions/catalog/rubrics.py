"""Review rubrics: criteria with weights, level descriptors and the key terms the offline
reviewer looks for. A mission's rubric is 3-5 criteria built from the templates below with the
mission's own weights and key terms."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

# Template id -> (name, descriptors of levels 1..4, lowest first).
CRITERIA: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    "evidence": (
        "Evidence and sources",
        (
            "Claims stand without support.",
            "Some claims are supported, sources are vague.",
            "Most claims are backed by named sources or own data.",
            "Every key claim is backed; sources are named and weighed against each other.",
        ),
    ),
    "method": (
        "Method",
        (
            "No method is described.",
            "The steps taken are listed but not explained.",
            "The method is explained and fits the question.",
            "The method is explained, justified and its limits are named.",
        ),
    ),
    "clarity": (
        "Clarity and structure",
        (
            "Hard to follow; no visible structure.",
            "Understandable, but ideas run together.",
            "Clear sections or paragraphs, one idea each.",
            "Clear, well ordered and easy to skim, with headings or lists where they help.",
        ),
    ),
    "insight": (
        "Insight and reflection",
        (
            "Describes only what happened.",
            "Says what was learned in general terms.",
            "Draws specific lessons from the work.",
            "Specific lessons plus what the student will do differently next time.",
        ),
    ),
    "audience": (
        "Audience and purpose",
        (
            "No clear reader or purpose.",
            "A reader is implied but the text does not serve them.",
            "Written for a named reader with a clear purpose.",
            "Shaped throughout for the reader: tone, length and examples fit them.",
        ),
    ),
    "correctness": (
        "Working solution",
        (
            "The solution does not run or does not address the task.",
            "Runs for the main case only.",
            "Solves the task as stated.",
            "Solves the task and handles unusual input gracefully.",
        ),
    ),
    "code_quality": (
        "Readable code",
        (
            "Names and layout hide what the code does.",
            "Readable in parts; some unclear names or long blocks.",
            "Clear names, small functions, brief comments where needed.",
            "Reads like an explanation; structure mirrors the problem.",
        ),
    ),
    "testing": (
        "Testing",
        (
            "No tests or checks are shown.",
            "A manual check of the main case.",
            "Tests for the main case and at least one edge case.",
            "Tests cover edge cases and show how failures were found and fixed.",
        ),
    ),
    "user_focus": (
        "User focus",
        (
            "The user is not mentioned.",
            "A user is named but their needs are assumed.",
            "Needs come from talking to or observing real users.",
            "Needs are evidenced and every design choice traces back to one.",
        ),
    ),
    "iteration": (
        "Iteration",
        (
            "One version, no changes.",
            "A second version with small changes.",
            "Versions changed because of feedback, and the changes are explained.",
            "Several rounds of feedback, each change tied to what was learned.",
        ),
    ),
    "visual": (
        "Visual communication",
        (
            "No visual, or it confuses.",
            "A visual that repeats the text.",
            "A visual that makes one idea clearer than words could.",
            "Visuals carry the main message; hierarchy, contrast and labels are deliberate.",
        ),
    ),
    "action": (
        "Action and follow-through",
        (
            "Only an intention.",
            "Tried once.",
            "Done consistently for the period asked, with a record.",
            "Done consistently, recorded, and adjusted when it did not work.",
        ),
    ),
    "self_awareness": (
        "Self-awareness",
        (
            "No link to the student's own experience.",
            "Feelings or reactions are mentioned briefly.",
            "Patterns in own behaviour are noticed and described.",
            "Patterns are noticed, explained and turned into a concrete change.",
        ),
    ),
    "exploration": (
        "Depth of exploration",
        (
            "One obvious source or option.",
            "A few options, described at the surface.",
            "Several options compared on the same points.",
            "Options compared in depth, including first-hand conversations or observation.",
        ),
    ),
    "deliverable": (
        "Deliverable attached",
        (
            "The asked-for file is missing.",
            "A file is attached but is not the kind asked for.",
            "The asked-for file is attached.",
            "The asked-for file is attached and referred to in the text.",
        ),
    ),
}

MAX_LEVEL = 4


class Criterion(BaseModel):
    id: str = Field(description="Criterion id, unique within the rubric.")
    name: str
    weight: float = Field(gt=0, le=1)
    levels: list[str] = Field(description="Descriptors of levels 1..max, lowest first.")
    key_terms: list[str] = Field(default_factory=list, description="Words a good answer is likely to use.")

    @property
    def max_level(self) -> int:
        return len(self.levels)


class Rubric(BaseModel):
    criteria: list[Criterion] = Field(min_length=3, max_length=5)
    pass_score: float = Field(default=60.0, description="Overall weighted score (0-100) needed to pass.")

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Rubric:
        total = sum(c.weight for c in self.criteria)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"criterion weights sum to {total}, not 1")
        if len({c.id for c in self.criteria}) != len(self.criteria):
            raise ValueError("criterion ids repeat")
        return self


def criterion(template: str, weight: float, *key_terms: str) -> Criterion:
    name, levels = CRITERIA[template]
    return Criterion(id=template, name=name, weight=weight, levels=list(levels), key_terms=list(key_terms))


def rubric(*criteria: Criterion, pass_score: float = 60.0) -> Rubric:
    return Rubric(criteria=list(criteria), pass_score=pass_score)
