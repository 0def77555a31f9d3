"""The file type from its bytes, never from its declared type or name: `filetype` reads the
magic bytes at the start; a file with none is plain text only if every byte decodes as UTF-8
text (no NUL, no control characters but tab, newline, carriage return and form feed)."""

from __future__ import annotations

import codecs
import re

import filetype  # type: ignore[import-untyped]

ALLOWED_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})
HEAD_BYTES = 8192  # what filetype inspects
UNKNOWN_BINARY = "application/octet-stream"
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


class UnsupportedType(Exception):
    def __init__(self, detected: str) -> None:
        super().__init__(detected)
        self.detected = detected


def magic_type(head: bytes) -> str | None:
    """The MIME type the magic bytes at the start name, or None when they name none."""
    kind = filetype.guess(head)
    return kind.mime if kind is not None else None


class TypeSniffer:
    """Fed a file's bytes in order; decides its type as early as it can. Raises
    `UnsupportedType` naming the detected type as soon as it is outside the allow-list."""

    def __init__(self) -> None:
        self._head = bytearray()
        self.detected: str | None = None
        self._text: codecs.IncrementalDecoder | None = None

    def feed(self, chunk: bytes) -> None:
        if self.detected is None:
            self._head += chunk
            if len(self._head) >= HEAD_BYTES:
                self._decide(bytes(self._head))
        elif self._text is not None:
            self._check_text(chunk)

    def finish(self) -> str:
        if self.detected is None:
            self._decide(bytes(self._head))
        if self._text is not None:
            self._check_text(b"", final=True)
        assert self.detected is not None
        return self.detected

    def _decide(self, head: bytes) -> None:
        found = magic_type(head)
        if found is None:
            self.detected = "text/plain"
            self._text = codecs.getincrementaldecoder("utf-8")()
            self._check_text(head)
        elif found not in ALLOWED_TYPES:
            raise UnsupportedType(found)
        else:
            self.detected = found

    def _check_text(self, chunk: bytes, *, final: bool = False) -> None:
        assert self._text is not None
        try:
            decoded = self._text.decode(chunk, final=final)
        except UnicodeDecodeError:
            raise UnsupportedType(UNKNOWN_BINARY) from None
        if _NOT_TEXT.search(decoded):
            raise UnsupportedType(UNKNOWN_BINARY)


def sniff(data: bytes) -> str:
    """The detected type of a whole file in memory (tests, small files)."""
    sniffer = TypeSniffer()
    sniffer.feed(data)
    return sniffer.finish()
