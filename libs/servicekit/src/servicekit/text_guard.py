"""Strings PostgreSQL cannot store: NUL (text and jsonb refuse it) and lone UTF-16 surrogates
(not valid UTF-8, refused as JSON). Found before any query runs, so they are a 422, not a 500."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import AfterValidator

# A NUL, or a surrogate code point (only a lone one survives JSON decoding into a str).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(value: str) -> str | None:
    """Why PostgreSQL would refuse this string, or None when it is storable."""
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    return "contains a NUL character" if match.group() == "\x00" else "contains a lone UTF-16 surrogate"


def find_unstorable(value: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """The location and reason of the first unstorable string in a decoded JSON value (keys included)."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return (path, reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_reason = unstorable_reason(key) if isinstance(key, str) else None
            if key_reason:
                return (*path, key), key_reason
            found = find_unstorable(item, (*path, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_unstorable(item, (*path, index))
            if found:
                return found
    return None


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# Spaces, separators, controls and format characters (zero-width space, joiners, bidi marks).
# Unassigned code points stay visible: an emoji newer than this Python's Unicode tables is one.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
# Letters and marks that draw nothing (Unicode's Default_Ignorable_Code_Point outside the
# categories above: Hangul fillers, the grapheme joiner, Khmer inherent vowels, Mongolian and
# other variation selectors), and the braille blank, which draws an empty cell.
_BLANK = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE or _BLANK.match(char) is not None


# Line and paragraph breaks, and the controls among them (NEL, the information separators).
_BREAKS = frozenset({"Zl", "Zp", "Cc"})


def require_visible(value: str) -> str:
    """A label people read (a name, a title, a unit) is one line that shows something: refused
    when it holds a control character or a line break anywhere, or only spacing, format and
    blank characters (a lone zero-width space passes `strip`)."""
    if any(unicodedata.category(char) in _BREAKS for char in value):
        raise ValueError("must be one line without control characters")
    if value and all(_invisible(char) for char in value):
        raise ValueError("has no visible character")
    return value


# `Annotated[str, StringConstraints(strip_whitespace=True, ...), Visible]`.
Visible = AfterValidator(require_visible)


# Right-to-left letters and explicit direction controls: text holding any of them is set apart
# when it goes into a sentence (U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE),
# so a right-to-left override in a habit's name cannot turn the rest of the sentence around.
_DIRECTIONAL = frozenset({"R", "AL", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})


def isolated(text: str) -> str:
    """`text` as it goes into a sentence someone reads (plain text, or HTML and its attributes).
    Its own isolates are balanced first: a PDI of its own would close the one around it early and
    one left open would take the closing PDI, either way letting the rest of the sentence in; a
    paragraph break would end the isolate with the paragraph (a space instead). Embeddings and
    overrides left open end at the closing PDI by themselves (UAX #9, X6a)."""
    if not any(unicodedata.bidirectional(char) in _DIRECTIONAL for char in text):
        return text
    kept: list[str] = []
    open_isolates = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("LRI", "RLI", "FSI"):
            open_isolates += 1
        elif kind == "PDI":
            if not open_isolates:
                continue
            open_isolates -= 1
        elif kind == "B":
            char = " "
        kept.append(char)
    return "\u2068" + "".join(kept) + "\u2069" * (open_isolates + 1)
