"""A multipart/form-data body read as it arrives, with python-multipart's push parser (the one
FastAPI uses), so a handler can cap, check and store each part while streaming instead of
spooling the whole body first."""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    MultipartParser,
    parse_options_header,
)


class MalformedMultipart(Exception):
    pass


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None  # None for a plain field; the client's name otherwise (never a path)


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise MalformedMultipart("the body must be multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MalformedMultipart("multipart/form-data without a boundary")
    return boundary


def _decode(raw: bytes) -> str:
    """UTF-8; a byte that is not (a lone surrogate's encoding included) becomes a lone surrogate,
    which the reader refuses naming the part's field (a 422, not a malformed body)."""
    return codecs.decode(raw, "utf-8", "surrogateescape")


class MultipartStream:
    def __init__(self, content_type: str, body: AsyncIterator[bytes], *, max_header_bytes: int = 8192) -> None:
        self._events: deque[Event] = deque()
        self._ended = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._header_bytes = 0
        self._max_header_bytes = max_header_bytes
        self._body = body
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": lambda: self._events.append(PartEnd()),
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_end": self._on_end,
            },
        )

    def _on_end(self) -> None:
        self._ended = True

    def _on_part_begin(self) -> None:
        self._disposition = b""
        self._header_bytes = 0

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(PartData(data[start:end]))

    def _grow_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._max_header_bytes:
            raise MalformedMultipart("a part's headers are too long")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(end - start)
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._disposition)
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedMultipart('every part needs Content-Disposition: form-data; name="..."')
        filename = options.get(b"filename")
        self._events.append(PartStart(_decode(options[b"name"]), _decode(filename) if filename is not None else None))

    async def events(self) -> AsyncIterator[Event]:
        try:
            async for chunk in self._body:
                self._parser.write(chunk)
                while self._events:
                    yield self._events.popleft()
            self._parser.finalize()
        except FormParserError as exc:
            if str(exc).startswith("Maximum header"):  # python-multipart's per-part header caps
                raise MalformedMultipart(
                    f"a part's headers are too long or too many (at most {DEFAULT_MAX_HEADER_COUNT} headers "
                    f"of {DEFAULT_MAX_HEADER_SIZE} bytes each)"
                ) from exc
            raise MalformedMultipart("the multipart body is malformed") from exc
        while self._events:
            yield self._events.popleft()
        if not self._ended:
            raise MalformedMultipart("the multipart body ended before its closing boundary")
