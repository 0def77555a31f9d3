"""Unit tests of the type checks on real small files: the bytes decide, never the name."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from missions.files.sniffing import HEAD_BYTES, TypeSniffer, UnsupportedType, sniff


@pytest.mark.parametrize(
    ("sample", "expected"),
    [("png", "image/png"), ("pdf", "application/pdf"), ("jpeg", "image/jpeg"), ("markdown", "text/plain")],
)
def test_allowed_types_are_detected_from_their_bytes(samples: SimpleNamespace, sample: str, expected: str) -> None:
    assert sniff(getattr(samples, sample)()) == expected


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        ("zip_archive", "application/zip"),
        ("elf_executable", "application/x-executable"),
        (b"MZ\x90\x00" + b"\x00" * 60, "application/x-msdownload"),
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"plain start \x00 then a NUL", "application/octet-stream"),
        (b"\xff\xfe not utf-8", "application/octet-stream"),
    ],
)
def test_anything_else_is_refused_naming_what_it_is(samples: SimpleNamespace, data: bytes | str, detected: str) -> None:
    with pytest.raises(UnsupportedType) as caught:
        sniff(getattr(samples, data)() if isinstance(data, str) else data)
    assert caught.value.detected == detected


def test_text_is_checked_to_the_last_byte_while_streaming() -> None:
    sniffer = TypeSniffer()
    sniffer.feed(b"a" * HEAD_BYTES)  # decided: text
    sniffer.feed(b"b" * 100)
    with pytest.raises(UnsupportedType):
        sniffer.feed(b"binary \x01 tail")


def test_a_utf8_character_split_across_chunks_is_still_text() -> None:
    sniffer = TypeSniffer()
    data = ("é" * HEAD_BYTES).encode()
    for start in range(0, len(data), 4097):  # odd chunk size: splits characters
        sniffer.feed(data[start : start + 4097])
    assert sniffer.finish() == "text/plain"
