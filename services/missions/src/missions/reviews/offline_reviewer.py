"""The offline reviewer: rules over what can be checked without understanding the work, and
says so. It reads the text (length against the mission's minimum, the rubric's key terms,
visible structure) and the files (present, of which kinds); it cannot judge accuracy,
originality or what an image or PDF shows. Deterministic: the same submission, the same review."""

from __future__ import annotations

import re
from dataclasses import dataclass

from missions.catalog.rubrics import Criterion, Rubric
from missions.reviews.schemas import CriterionJudgement, ReviewAnswer

METHOD = (
    "Reviewed offline by rules: length against the mission's minimum, the rubric's key terms, visible "
    "structure (paragraphs, lists, headings) and whether the asked-for files are attached. It cannot judge "
    "accuracy, originality or what images and PDFs show."
)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


@dataclass(frozen=True)
class FileFacts:
    filename: str
    content_type: str
    size_bytes: int
    text: str | None = None  # the start of a text file, for the key-term check


@dataclass(frozen=True)
class SubmissionFacts:
    text: str
    files: tuple[FileFacts, ...]
    min_words: int
    wants_files: bool


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _mentions(words: set[str], term: str) -> bool:
    """A key term counts when a word starts with it (`measure` matches `measured`, `measurements`)."""
    parts = _words(term)
    return bool(parts) and all(any(w.startswith(p) for w in words) for p in parts)


def structure_score(text: str) -> float:
    """0..1 from paragraphs, list items and headings."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    lines = text.splitlines()
    items = sum(1 for line in lines if re.match(r"^\s*([-*•]|\d+[.)])\s+", line))
    headings = sum(
        1 for line in lines if re.match(r"^\s*#{1,6}\s+\S", line) or (line.strip().endswith(":") and len(line) < 60)
    )
    return min(1.0, (min(len(paragraphs), 4) / 4) * 0.6 + min(items + headings, 4) / 4 * 0.4)


def _level(fraction: float, max_level: int) -> int:
    return max(1, min(max_level, 1 + int(fraction * (max_level - 1) + 0.5)))


def _judge(
    criterion: Criterion, facts: SubmissionFacts, words: set[str], length: float, structure: float
) -> CriterionJudgement:
    if criterion.id == "deliverable":
        if not facts.files:
            return CriterionJudgement(criterion_id=criterion.id, level=1, comment="No file is attached.")
        kinds = ", ".join(sorted({f.content_type for f in facts.files}))
        named = any(_mentions(words, f.filename.rsplit(".", 1)[0]) for f in facts.files) or any(
            w in words for w in ("attached", "photo", "screenshot", "picture", "file", "chart", "sketch")
        )
        level = criterion.max_level if named else criterion.max_level - 1
        how = "and the text refers to it" if named else "but the text does not refer to it"
        return CriterionJudgement(
            criterion_id=criterion.id, level=level, comment=f"{len(facts.files)} file(s) attached ({kinds}), {how}."
        )
    found = [t for t in criterion.key_terms if _mentions(words, t)]
    missing = [t for t in criterion.key_terms if t not in found]
    coverage = len(found) / len(criterion.key_terms) if criterion.key_terms else length
    fraction = 0.6 * coverage + 0.25 * length + 0.15 * structure
    if criterion.id == "clarity":
        fraction = 0.5 * structure + 0.3 * length + 0.2 * coverage
    level = _level(fraction, criterion.max_level)
    parts = []
    if criterion.key_terms:
        parts.append(f"uses {len(found)} of {len(criterion.key_terms)} terms this criterion looks for")
        if found:
            parts.append(f"({', '.join(found)})")
        if missing:
            parts.append(f"- not found: {', '.join(missing)}")
    parts.append(f"; length {round(length * 100)}% of the minimum, structure {round(structure * 100)}%")
    return CriterionJudgement(criterion_id=criterion.id, level=level, comment=" ".join(parts).replace(" ;", ";") + ".")


def review_offline(rubric: Rubric, facts: SubmissionFacts) -> ReviewAnswer:
    """Levels per criterion from the rules above; strengths are the best-scoring criteria and
    the next step targets the weakest one with the next level's descriptor."""
    corpus = "\n".join([facts.text, *(f.text for f in facts.files if f.text)])
    words = set(_words(corpus))
    length = min(1.0, len(_words(facts.text)) / max(facts.min_words, 1))
    structure = structure_score(facts.text)
    judgements = [_judge(c, facts, words, length, structure) for c in rubric.criteria]
    by_id = {c.id: c for c in rubric.criteria}
    ranked = sorted(judgements, key=lambda j: (-(j.level / by_id[j.criterion_id].max_level), j.criterion_id))
    strengths = [
        f"{by_id[j.criterion_id].name}: {by_id[j.criterion_id].levels[j.level - 1]}" for j in ranked[:2] if j.level > 1
    ] or ["You submitted on time and in your own words: a start to build on."]
    weakest = min(judgements, key=lambda j: (j.level / by_id[j.criterion_id].max_level, j.criterion_id))
    criterion = by_id[weakest.criterion_id]
    target = criterion.levels[min(weakest.level, criterion.max_level - 1)]
    if criterion.id == "deliverable" and not facts.files:
        next_step = "Attach the file the mission asks for (PDF, PNG, JPEG or a text file) and mention it in your text."
    elif length < 1.0:
        next_step = f"Expand your write-up to at least {facts.min_words} words, aiming for '{criterion.name}': {target}"
    else:
        missing = [t for t in criterion.key_terms if not _mentions(words, t)]
        hint = f" Cover: {', '.join(missing[:3])}." if missing else ""
        next_step = f"Work on '{criterion.name}'. Aim for: {target}{hint}"
    return ReviewAnswer(criteria=judgements, strengths=strengths, next_step=next_step[:400])
