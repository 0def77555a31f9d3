"""Reading a submission's multipart body while it streams: the text part, then up to N files,
each written straight to storage under a generated key, typed by its magic bytes and capped per
file and per submission. The first broken rule stops the reading (the rest of the body is never
read) and removes whatever was already stored, so a refused or cut-off request leaves nothing."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio

from missions.files.multipart_stream import MalformedMultipart, MultipartStream, PartData, PartEnd, PartStart
from missions.files.sniffing import ALLOWED_TYPES, TypeSniffer, UnsupportedType
from missions.files.storage import ObjectStorage, ObjectWriter, StoredObject, object_key
from missions.settings import MissionsSettings
from servicekit.errors import PayloadTooLarge, ProblemError, Unprocessable, UnsupportedMediaType
from servicekit.text_guard import unstorable_reason

TEXT_FIELD = "text"
FILES_FIELD = "files"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_UTF8 = re.compile("[\ud800-\udfff]")  # how the multipart reader marks bytes that are not UTF-8
# Bidirectional controls make `photo\u202egnp.exe` display as `photoexe.png`.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class StagedFile:
    id: uuid.UUID
    position: int
    filename: str
    content_type: str
    stored: StoredObject


@dataclass
class StagedSubmission:
    id: uuid.UUID
    text: str = ""
    files: list[StagedFile] = field(default_factory=list)

    def fingerprint(self, method: str, path: str) -> str:
        """What stands for the request under an Idempotency-Key: the text and each file's digest."""
        digest = hashlib.sha256()
        for part in (method, path, self.text, *(f"{f.filename}\x00{f.stored.sha256}" for f in self.files)):
            encoded = part.encode()
            digest.update(len(encoded).to_bytes(8, "big") + encoded)
        return digest.hexdigest()


def invalid(field_name: str, message: str) -> Unprocessable:
    return Unprocessable(f"invalid request: {field_name} {message}", errors=[{"field": field_name, "message": message}])


def clean_filename(raw: str, position: int) -> str:
    """The client's name for display only: its last path segment, trimmed; never a path."""
    field_name = f"files[{position}].filename"
    if _NOT_UTF8.search(raw):
        raise invalid(field_name, "is not UTF-8 text")
    reason = unstorable_reason(raw)
    if reason:
        raise invalid(field_name, reason)
    if _CONTROL.search(raw):
        raise invalid(field_name, "contains a control character")
    if _BIDI.search(raw):
        raise invalid(field_name, "contains a bidirectional control character")
    name = re.split(r"[\\/]", raw)[-1].strip()[:200]
    return name if name and name not in {".", ".."} else f"file-{position + 1}"


class _Reader:
    def __init__(
        self, storage: ObjectStorage, settings: MissionsSettings, user_id: uuid.UUID, staged: StagedSubmission
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.user_id = user_id
        self.staged = staged
        self.text_parts: list[bytes] | None = None
        self.text_bytes = 0
        self.seen_text = False
        self.total_file_bytes = 0
        self.writer: ObjectWriter | None = None
        self.sniffer: TypeSniffer | None = None
        self.file_id: uuid.UUID | None = None
        self.filename = ""
        self.file_bytes = 0

    @property
    def position(self) -> int:
        return len(self.staged.files)

    def start(self, part: PartStart) -> None:
        if part.name == TEXT_FIELD:
            if part.filename is not None:
                raise invalid(TEXT_FIELD, "must be a plain form field, not a file")
            if self.seen_text:
                raise invalid(TEXT_FIELD, "is given more than once")
            self.seen_text = True
            self.text_parts = []
        elif part.name == FILES_FIELD:
            if part.filename is None:
                raise invalid(f"files[{self.position}]", "must be a file part (with a filename)")
            if self.position >= self.settings.max_files_per_submission:
                raise invalid(FILES_FIELD, f"at most {self.settings.max_files_per_submission} files per submission")
            self.filename = clean_filename(part.filename, self.position)
            self.file_id = uuid.uuid4()
            self.writer = self.storage.writer(object_key(self.user_id, self.staged.id, self.file_id))
            self.sniffer = TypeSniffer()
            self.file_bytes = 0
        else:
            name = part.name if unstorable_reason(part.name) is None else "?"
            raise invalid(
                name[:40] or "?", f"is not a field of a submission (expected {TEXT_FIELD!r} and {FILES_FIELD!r})"
            )

    async def data(self, chunk: bytes) -> None:
        if self.text_parts is not None:
            self.text_bytes += len(chunk)
            if self.text_bytes > self.settings.max_text_chars * 4:  # no UTF-8 character is longer
                raise invalid(TEXT_FIELD, f"is longer than {self.settings.max_text_chars} characters")
            self.text_parts.append(chunk)
            return
        assert self.writer is not None
        assert self.sniffer is not None
        self.file_bytes += len(chunk)
        self.total_file_bytes += len(chunk)
        if self.file_bytes > self.settings.max_file_bytes:
            raise PayloadTooLarge(
                f"files[{self.position}] is larger than the {self.settings.max_file_bytes} bytes a file may be",
                field=f"files[{self.position}]",
                max_file_bytes=self.settings.max_file_bytes,
            )
        if self.total_file_bytes > self.settings.max_submission_bytes:
            raise PayloadTooLarge(
                f"the files are larger than the {self.settings.max_submission_bytes} bytes a submission may hold",
                field=FILES_FIELD,
                max_submission_bytes=self.settings.max_submission_bytes,
            )
        try:
            self.sniffer.feed(chunk)
        except UnsupportedType as exc:
            raise self._unsupported(exc) from None
        await self.writer.write(chunk)

    async def end(self) -> None:
        if self.text_parts is not None:
            self.staged.text = self._text(b"".join(self.text_parts))
            self.text_parts = None
            return
        assert self.writer is not None
        assert self.sniffer is not None
        assert self.file_id is not None
        if self.file_bytes == 0:
            raise invalid(f"files[{self.position}]", "is empty")
        try:
            detected = self.sniffer.finish()
        except UnsupportedType as exc:
            raise self._unsupported(exc) from None
        stored = await self.writer.finish()
        self.staged.files.append(StagedFile(self.file_id, self.position, self.filename, detected, stored))
        self.writer = self.sniffer = None

    def _unsupported(self, exc: UnsupportedType) -> UnsupportedMediaType:
        allowed = sorted(ALLOWED_TYPES)
        return UnsupportedMediaType(
            f"files[{self.position}] ({self.filename!r}) is {exc.detected}; allowed: {', '.join(allowed)}",
            field=f"files[{self.position}]",
            detected_type=exc.detected,
            allowed_types=allowed,
        )

    def _text(self, raw: bytes) -> str:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(TEXT_FIELD, "is not UTF-8 text") from None
        reason = unstorable_reason(text)
        if reason:
            raise invalid(TEXT_FIELD, reason)
        if len(text) > self.settings.max_text_chars:
            raise invalid(TEXT_FIELD, f"is longer than {self.settings.max_text_chars} characters")
        if not text.strip():
            raise invalid(TEXT_FIELD, "is empty")
        return text

    async def discard(self) -> None:
        """Remove everything stored for this request (shielded: runs even when cancelled)."""
        with anyio.CancelScope(shield=True):
            if self.writer is not None:
                await self.writer.abort()
            for staged in self.staged.files:
                await self.storage.delete(staged.stored.key)


async def receive_submission(
    content_type: str | None,
    body: AsyncIterator[bytes],
    storage: ObjectStorage,
    settings: MissionsSettings,
    user_id: uuid.UUID,
) -> StagedSubmission:
    """Read and store the whole submission, or raise (a 4xx problem) with nothing left stored."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "a submission is multipart/form-data: a `text` field and up to "
            f"{settings.max_files_per_submission} `files`",
            field="Content-Type",
        )
    staged = StagedSubmission(id=uuid.uuid4())
    reader = _Reader(storage, settings, user_id, staged)
    try:
        stream = MultipartStream(content_type, body)
        async for event in stream.events():
            if isinstance(event, PartStart):
                reader.start(event)
            elif isinstance(event, PartData):
                await reader.data(event.data)
            elif isinstance(event, PartEnd):
                await reader.end()
        if not reader.seen_text:
            raise invalid(TEXT_FIELD, "is required")
    except MalformedMultipart as exc:
        await reader.discard()
        raise ProblemError(
            f"invalid request: body {exc}", status=400, errors=[{"field": "body", "message": str(exc)}]
        ) from None
    except BaseException:
        await reader.discard()
        raise
    return staged


async def discard(storage: ObjectStorage, staged: StagedSubmission) -> None:
    with anyio.CancelScope(shield=True):
        for staged_file in staged.files:
            await storage.delete(staged_file.stored.key)
