"""A request cut off midway (the client goes away, the body stops) leaves no file behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import ClientDisconnect

from missions.files.storage import LocalDiskStorage
from missions.submissions.upload import receive_submission
from servicekit.errors import UnsupportedMediaType

BOUNDARY = "cutoff"


def _body(samples: SimpleNamespace) -> bytes:
    image: bytes = samples.png()
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\nmy work\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'.encode()
        + image
        + f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="b.txt"\r\n\r\n'.encode()
        + b"x" * 20_000
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def _cut_after(data: bytes, size: int, error: BaseException) -> AsyncIterator[bytes]:
    for start in range(0, size, 1000):
        yield data[start : min(start + 1000, size)]
    raise error


@pytest.mark.parametrize("error", [ClientDisconnect(), ConnectionResetError("peer went away")])
async def test_a_cut_off_request_leaves_nothing(
    tmp_path: Path, samples: SimpleNamespace, settings: Any, error: BaseException
) -> None:
    storage = LocalDiskStorage(tmp_path)
    data = _body(samples)
    cut = data.index(b"x" * 100) + 5_000  # the first file is complete, the second half written
    with pytest.raises(type(error)):
        await receive_submission(
            f"multipart/form-data; boundary={BOUNDARY}", _cut_after(data, cut, error), storage, settings, uuid.uuid4()
        )
    assert _files(tmp_path) == []
    assert _submission_folders(tmp_path) == []  # no empty folder per refused request either


async def test_a_refused_file_leaves_no_folder_behind(tmp_path: Path, samples: SimpleNamespace, settings: Any) -> None:
    storage = LocalDiskStorage(tmp_path)
    data = _body(samples).replace(b"x" * 20_000, samples.zip_archive(), 1)  # the second file is a ZIP: 415
    with pytest.raises(UnsupportedMediaType):
        await receive_submission(
            f"multipart/form-data; boundary={BOUNDARY}", _chunks(data), storage, settings, uuid.uuid4()
        )
    assert _files(tmp_path) == []
    assert _submission_folders(tmp_path) == []


async def test_a_whole_body_is_stored_with_sizes_and_digests(
    tmp_path: Path, samples: SimpleNamespace, settings: Any
) -> None:
    storage = LocalDiskStorage(tmp_path)
    data = _body(samples)
    staged = await receive_submission(
        f"multipart/form-data; boundary={BOUNDARY}", _chunks(data), storage, settings, uuid.uuid4()
    )
    assert staged.text == "my work"
    assert [f.content_type for f in staged.files] == ["image/png", "text/plain"]
    assert [f.stored.size for f in staged.files] == [len(samples.png()), 20_000]
    assert len(_files(tmp_path)) == 2


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 777):
        yield data[start : start + 777]


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _submission_folders(root: Path) -> list[Path]:
    return list(root.glob("*/*"))
