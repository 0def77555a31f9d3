"""What a student typed is set apart from the page's sentence around it: a right-to-left
override in a habit's name cannot reverse "Edit “…”" or a check-in button's words."""

from __future__ import annotations

from pathlib import Path

from journey_web.deps import templates

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "journey_web" / "templates"


def test_the_isolated_filter_sets_direction_changing_names_apart() -> None:
    sentence = templates.env.from_string("Edit “{{ name | isolated }}” now")
    assert sentence.render(name="\u202eRead") == "Edit “\u2068\u202eRead\u2069” now"
    assert sentence.render(name="Read") == "Edit “Read” now"


def test_names_inside_sentences_go_through_it() -> None:
    for page, expression in [
        ("habit_edit.html", "habit.name"),
        ("today.html", "h.name"),
        ("today.html", "g.title"),
        ("_dashboard.html", "h.name"),
    ]:
        text = (TEMPLATES / page).read_text()
        assert "{{ " + expression + " }}" not in text, (page, expression)
        assert "{{ " + expression + " | isolated }}" in text, (page, expression)
