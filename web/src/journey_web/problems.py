"""The APIs' problem+json answers as words a student reads: a message next to the field it
names, a sentence for the page, and 402 as "this needs plus" with the upgrade button."""

from __future__ import annotations

import re
from typing import Any

import httpx


def _mib(n: object) -> str:
    if not isinstance(n, int):
        return "the limit"
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KiB"


_TYPE_WORDS = {
    "application/zip": "a ZIP archive",
    "application/x-msdownload": "a Windows program",
    "application/octet-stream": "a binary file",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
}


class ApiProblem(Exception):
    """A 4xx/5xx answer of an API, with its problem+json body (or what stood in for it)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail')}")
        self.status = status
        self.problem = problem

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiProblem:
        try:
            body = response.json()
        except ValueError:
            body = None
        problem = body if isinstance(body, dict) else {"detail": response.reason_phrase}
        return cls(response.status_code, problem)

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "something went wrong")

    @property
    def needs_upgrade(self) -> bool:
        return self.status == 402

    def field_errors(self, aliases: dict[str, str] | None = None) -> dict[str, str]:
        """`{form field: message}` from the problem's `errors`; `aliases` maps an API field
        (`schedule.times`) to the form's control (`times`)."""
        found: dict[str, str] = {}
        for error in self.problem.get("errors") or []:
            if not isinstance(error, dict):
                continue
            field = str(error.get("field") or "")
            field = (aliases or {}).get(field, field.split(".")[-1] if field else "")
            message = str(error.get("message") or "")
            # pydantic's "Value error, ..." prefix says nothing to a student.
            found.setdefault(field, re.sub(r"^Value error, ", "", message))
        return found

    def in_words(self, *, filenames: list[str] | None = None) -> str:
        """One sentence for the page."""
        names = filenames or []
        if self.status == 413:
            field = str(self.problem.get("field") or "")
            position = re.fullmatch(r"files\[(\d+)\]", field)
            if "max_file_bytes" in self.problem:
                index = int(position.group(1)) if position else -1
                which = f"“{names[index]}”" if 0 <= index < len(names) else "One of the files"
                return f"{which} is too large: a file may be at most {_mib(self.problem['max_file_bytes'])}."
            if "max_submission_bytes" in self.problem:
                cap = _mib(self.problem["max_submission_bytes"])
                return f"The files together are too large: a submission may hold at most {cap}."
            return "That was too large to send. Try smaller or fewer files."
        if self.status == 415:
            detected = str(self.problem.get("detected_type") or "")
            field = str(self.problem.get("field") or "")
            position = re.fullmatch(r"files\[(\d+)\](?:\..*)?", field)
            index = int(position.group(1)) if position else -1
            which = f"“{names[index]}”" if 0 <= index < len(names) else "A file"
            kind = _TYPE_WORDS.get(detected, detected or "a type we cannot read")
            return (
                f"{which} is {kind} by its contents, whatever its name says. Attach PDF, PNG, JPEG or plain-text files."
            )
        if self.status == 429:
            return "That was a lot of requests at once. Wait a moment and try again."
        if self.status >= 500:
            return "The service is busy or unavailable right now. Try again in a moment."
        return self.detail
