"""POST /enrollments/{id}/submissions and the reads, with good and bad input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from servicekit.testing import eventually, problem

B = "/api/v1/missions"
MISSION = "research-local-water-quality"  # text + files
TEXT = "I read the supplier's report and measured nitrate with a test strip."


def stored_files(files_dir: Path, user_id: uuid.UUID) -> list[Path]:
    root = files_dir / str(user_id)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def file_rows(admin_sql: Callable[..., Any], user_id: uuid.UUID) -> int:
    return int(admin_sql("SELECT count(*) FROM missions.submission_files WHERE user_id = %s", user_id)[0][0])


async def test_text_and_a_png_are_stored_and_served_back(
    student: Callable[..., Any], samples: SimpleNamespace, client: httpx.AsyncClient, files_dir: Path
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    image = samples.png()
    response = await ada.submit(enrollment["id"], TEXT, [("photo.png", image, "image/png")])
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["review"] is None
    assert body["attempt"] == 1
    assert body["mission_title"] == "Test the water where you live"
    assert response.headers["location"] == f"{B}/submissions/{body['id']}"
    [stored] = body["files"]
    assert stored["content_type"] == "image/png"
    assert stored["size_bytes"] == len(image)
    assert len(stored_files(files_dir, ada.id)) == 1
    assert "photo.png" not in str(stored_files(files_dir, ada.id)[0])  # generated names only

    download = await client.get(stored["url"], headers=ada.headers)
    assert download.status_code == 200
    assert download.content == image
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith('attachment; filename="photo.png"')

    got = await client.get(f"{B}/submissions/{body['id']}", headers=ada.headers)
    assert got.status_code == 200
    assert got.json()["files"] == body["files"]
    listed = (await client.get(f"{B}/submissions", headers=ada.headers)).json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    assert listed["items"][0]["file_count"] == 1


async def test_a_png_sent_as_a_pdf_is_stored_and_served_as_png(
    student: Callable[..., Any], samples: SimpleNamespace, client: httpx.AsyncClient
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    response = await ada.submit(enrollment["id"], TEXT, [("report.pdf", samples.png(), "application/pdf")])
    assert response.status_code == 202, response.text
    [stored] = response.json()["files"]
    assert stored["content_type"] == "image/png"
    assert stored["filename"] == "report.pdf"
    download = await client.get(stored["url"], headers=ada.headers)
    assert download.headers["content-type"] == "image/png"


async def test_a_zip_or_an_executable_named_photo_png_is_415_naming_the_detected_type(
    student: Callable[..., Any], samples: SimpleNamespace, files_dir: Path, admin_sql: Callable[..., Any]
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    for data, detected in (
        (samples.zip_archive(), "application/zip"),
        (samples.elf_executable(), "application/x-executable"),
    ):
        response = await ada.submit(
            enrollment["id"],
            TEXT,
            [("notes.md", samples.markdown(), "text/markdown"), ("photo.png", data, "image/png")],
        )
        body = problem(response, 415)
        assert body["detected_type"] == detected
        assert body["field"] == "files[1]"
        assert detected in body["detail"]
    assert stored_files(files_dir, ada.id) == []  # the good first file was removed too
    assert file_rows(admin_sql, ada.id) == 0


async def test_size_and_count_caps(
    student: Callable[..., Any], samples: SimpleNamespace, settings: Any, files_dir: Path
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    big = samples.markdown() + b"a" * settings.max_file_bytes
    body = problem(await ada.submit(enrollment["id"], TEXT, [("big.md", big, "text/plain")]), 413)
    assert body["field"] == "files[0]"
    assert body["max_file_bytes"] == settings.max_file_bytes

    near = b"b" * (settings.max_file_bytes - 10)
    parts = [(f"f{i}.txt", near, "text/plain") for i in range(settings.max_files_per_submission)]
    body = problem(await ada.submit(enrollment["id"], TEXT, parts), 413)
    assert body["max_submission_bytes"] == settings.max_submission_bytes

    many = [(f"f{i}.txt", b"hello", "text/plain") for i in range(settings.max_files_per_submission + 1)]
    body = problem(await ada.submit(enrollment["id"], TEXT, many), 422)
    assert body["errors"][0]["field"] == "files"
    assert stored_files(files_dir, ada.id) == []


async def test_the_route_body_cap_is_a_problem_413(
    student: Callable[..., Any], client: httpx.AsyncClient, settings: Any
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    content = b"x" * (settings.submission_body_limit + 1)
    response = await client.post(
        f"{B}/enrollments/{enrollment['id']}/submissions",
        content=content,
        headers={**ada.headers, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    problem(response, 413)


async def test_bad_text_and_bad_bodies(
    student: Callable[..., Any], samples: SimpleNamespace, client: httpx.AsyncClient
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    eid = enrollment["id"]
    for text, message in (("   ", "empty"), ("nul \x00 here", "NUL"), ("x" * 5001, "longer")):
        body = problem(await ada.submit(eid, text), 422)
        assert body["errors"][0]["field"] == "text", body
        assert message in body["detail"]
    only_a_file = await ada.submit(eid, None, [("p.png", samples.png(), "image/png")])
    assert "required" in problem(only_a_file, 422)["detail"]
    raw = (
        b'--abc\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n'
        b'--abc\r\nContent-Disposition: form-data; name="files"; filename="bad\x00name.png"\r\n\r\n'
        + samples.png()
        + b"\r\n--abc--\r\n"
    )
    nul_name = await client.post(
        f"{B}/enrollments/{eid}/submissions",
        content=raw,
        headers={**ada.headers, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert problem(nul_name, 422)["errors"][0]["field"] == "files[0].filename"
    body = problem(await ada.submit(eid, TEXT, [("empty.txt", b"", "text/plain")]), 422)
    assert body["errors"][0]["field"] == "files[0]"
    wrong_type = await client.post(f"{B}/enrollments/{eid}/submissions", json={"text": TEXT}, headers=ada.headers)
    assert problem(wrong_type, 415)["field"] == "Content-Type"
    truncated = await client.post(
        f"{B}/enrollments/{eid}/submissions",
        content=b'--abc\r\nContent-Disposition: form-data; name="text"\r\n\r\nhalf',
        headers={**ada.headers, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert problem(truncated, 400)["errors"][0]["field"] == "body"
    unknown = await client.post(
        f"{B}/enrollments/{eid}/submissions",
        files=[("text", (None, TEXT.encode())), ("extra", (None, b"x"))],
        headers=ada.headers,
    )
    assert problem(unknown, 422)["errors"][0]["field"] == "extra"


def _raw_submission(*parts: tuple[bytes, bytes]) -> bytes:
    body = b"".join(b"--abc\r\n" + headers + b"\r\n\r\n" + data + b"\r\n" for headers, data in parts)
    return body + b"--abc--\r\n"


TEXT_PART = (b'Content-Disposition: form-data; name="text"', b"my work")


def _file_part(filename: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="files"; filename="' + filename + b'"'


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (b"caf\xe9.png", "is not UTF-8 text"),  # Latin-1
        (b"a\xed\xa0\x80.png", "is not UTF-8 text"),  # a lone surrogate, UTF-8 encoded
        ("photo\u202egnp.exe".encode(), "bidirectional control"),  # shows as photoexe.png
        ("a\u2066b.png".encode(), "bidirectional control"),
    ],
)
async def test_filenames_that_are_not_utf8_or_hide_their_extension_are_422_naming_the_field(
    student: Callable[..., Any],
    samples: SimpleNamespace,
    client: httpx.AsyncClient,
    files_dir: Path,
    filename: bytes,
    message: str,
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    response = await client.post(
        f"{B}/enrollments/{enrollment['id']}/submissions",
        content=_raw_submission(TEXT_PART, (_file_part(filename), samples.png())),
        headers={**ada.headers, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    body = problem(response, 422)
    assert body["errors"][0]["field"] == "files[0].filename"
    assert message in body["detail"]
    assert stored_files(files_dir, ada.id) == []


async def test_odd_part_names_and_headers_are_named_in_the_problem(
    student: Callable[..., Any], client: httpx.AsyncClient
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    url = f"{B}/enrollments/{enrollment['id']}/submissions"
    headers = {**ada.headers, "Content-Type": "multipart/form-data; boundary=abc"}
    not_utf8_name = await client.post(
        url, content=_raw_submission((b'Content-Disposition: form-data; name="t\xe9xt"', b"x")), headers=headers
    )
    assert "is not a field of a submission" in problem(not_utf8_name, 422)["detail"]
    many_headers = TEXT_PART[0] + b"".join(b"\r\nX-Header-%d: v" % i for i in range(20))
    too_many = await client.post(url, content=_raw_submission((many_headers, b"x")), headers=headers)
    assert "headers are too long or too many" in problem(too_many, 400)["detail"]
    long_name = await client.post(
        url, content=_raw_submission(TEXT_PART, (_file_part(b"a" * 5000), b"x")), headers=headers
    )
    assert "headers are too long or too many" in problem(long_name, 400)["detail"]


async def test_unknown_and_other_users_ids_are_404(
    student: Callable[..., Any], samples: SimpleNamespace, client: httpx.AsyncClient
) -> None:
    ada, bob = student("ada"), student("bob")
    enrollment = await ada.enrolled(MISSION)
    submitted = (await ada.submit(enrollment["id"], TEXT, [("p.png", samples.png(), "image/png")])).json()
    file_url = submitted["files"][0]["url"]
    problem(await bob.submit(enrollment["id"], TEXT), 404)
    problem(await ada.submit(str(uuid.uuid4()), TEXT), 404)
    problem(await client.get(f"{B}/submissions/{submitted['id']}", headers=bob.headers), 404)
    problem(await client.get(file_url, headers=bob.headers), 404)
    problem(await client.get(f"{B}/submissions/{submitted['id']}/files/{uuid.uuid4()}", headers=ada.headers), 404)
    assert (await client.get(f"{B}/submissions", headers=bob.headers)).json()["items"] == []


async def test_one_pending_review_at_a_time_and_a_key_replays(
    student: Callable[..., Any],
    samples: SimpleNamespace,
    files_dir: Path,
    admin_sql: Callable[..., Any],
    client: httpx.AsyncClient,
    worker: Any,
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    key = {"Idempotency-Key": "ada-submission-1"}
    files = [("p.png", samples.png(), "image/png")]
    first = await ada.submit(enrollment["id"], TEXT, files, **key)
    again = await ada.submit(enrollment["id"], TEXT, files, **key)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"] == f"{B}/submissions/{first.json()['id']}"
    assert (await client.get(again.headers["location"], headers=ada.headers)).status_code == 200
    assert len(stored_files(files_dir, ada.id)) == 1  # the replay's copy was removed
    different = await ada.submit(enrollment["id"], "another text entirely", files, **key)
    problem(different, 422)

    # The session's worker reviews it within moments; hold it at pending as if the worker
    # were slow (the event is consumed once, so nothing scores it again meanwhile).
    async def scored() -> bool:
        got = await client.get(f"{B}/submissions/{first.json()['id']}", headers=ada.headers)
        return bool(got.json()["status"] == "scored")

    await eventually(scored)
    admin_sql("UPDATE missions.submissions SET status = 'pending' WHERE id = %s", first.json()["id"])
    body = problem(await ada.submit(enrollment["id"], TEXT), 409)
    assert "reviewed" in body["detail"]
    assert len(stored_files(files_dir, ada.id)) == 1
