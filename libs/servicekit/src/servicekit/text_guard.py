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


def require_visible(value: str) -> str:
    """A label people read (a name, a title, a unit) must show something: refused when it holds
    only spacing, format and control characters (a lone zero-width space passes `strip`)."""
    if value and all(unicodedata.category(char) in _INVISIBLE for char in value):
        raise ValueError("has no visible character")
    return value


# `Annotated[str, StringConstraints(strip_whitespace=True, ...), Visible]`.
Visible = AfterValidator(require_visible)


# Right-to-left letters and explicit direction controls: text holding any of them is set apart
# when it goes into a sentence (U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE),
# so a right-to-left override in a habit's name cannot turn the rest of the sentence around.
_DIRECTIONAL = frozenset({"R", "AL", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})


def isolated(text: str) -> str:
    """`text` as it goes into a sentence someone reads (plain text, or HTML and its attributes)."""
    if any(unicodedata.bidirectional(char) in _DIRECTIONAL for char in text):
        return f"\u2068{text}\u2069"
    return text
