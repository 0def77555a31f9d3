from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest

from entitlements.testing import set_tier_fixture
from missions.main import service
from servicekit.testing import Users, service_fixtures

fixtures = service_fixtures(service)
settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users

B = "/api/v1/missions"


@pytest.fixture(scope="session")
def files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("missions-files")


@pytest.fixture(scope="session")
def settings_overrides(files_dir: Path) -> dict[str, Any]:
    # Small caps so the limits are reachable with small files made in the tests.
    return {
        "files_dir": files_dir,
        "max_file_bytes": 64 * 1024,
        "max_submission_bytes": 160 * 1024,
        "max_files_per_submission": 3,
        "max_text_chars": 5_000,
        "review_retry_after_seconds": 1,
    }


@pytest.fixture(scope="session")
def admin_sql(infra: Any) -> Callable[..., list[tuple[Any, ...]]]:
    def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    return run


set_tier = set_tier_fixture("missions")


class Student:
    """One fresh user driving the API like a client."""

    def __init__(self, client: httpx.AsyncClient, users: Users, label: str = "student") -> None:
        self.client = client
        self.users = users
        self.name = users.new(label)
        self.headers = users.headers(self.name)
        self.id = users.id(self.name)

    async def start(self, mission_id: str, **headers: str) -> httpx.Response:
        return await self.client.post(f"{B}/catalog/{mission_id}/start", headers={**self.headers, **headers})

    async def enrolled(self, mission_id: str) -> dict[str, Any]:
        response = await self.start(mission_id)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def submit(
        self,
        enrollment_id: str,
        text: str | None = "My work.",
        files: list[tuple[str, bytes, str]] | None = None,
        **headers: str,
    ) -> httpx.Response:
        # Always multipart (as `curl -F` sends it), even with no file: a text field is (None, value).
        parts: list[tuple[str, Any]] = [("text", (None, text.encode()))] if text is not None else []
        parts += [("files", f) for f in files or []]
        if not parts:
            parts = [("nothing", (None, b""))]
        return await self.client.post(
            f"{B}/enrollments/{enrollment_id}/submissions", files=parts, headers={**self.headers, **headers}
        )


@pytest.fixture
def student(client: httpx.AsyncClient, users: Users) -> Callable[..., Student]:
    def make(label: str = "student") -> Student:
        return Student(client, users, label)

    return make


# --- small real files made in the tests: each starts with its format's real magic bytes ---


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a photo")
    return buffer.getvalue()


def elf_executable() -> bytes:
    # A 64-bit little-endian ELF header (x86-64 executable), as the first bytes of any Linux binary.
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 40


def markdown() -> bytes:
    return "# My notes\n\n- measured the nitrate: 12 mg/l\n- café test ✓\n".encode()


SAMPLES = SimpleNamespace(
    png=png, pdf=pdf, jpeg=jpeg, zip_archive=zip_archive, elf_executable=elf_executable, markdown=markdown
)


@pytest.fixture(scope="session")
def samples() -> SimpleNamespace:
    return SAMPLES
