"""The storage the API and worker use, from settings (local disk unless configured otherwise)."""

from __future__ import annotations

from fastapi import Request

from missions.files.storage import LocalDiskStorage, ObjectStorage
from missions.settings import MissionsSettings


def storage_for(settings: MissionsSettings) -> ObjectStorage:
    return LocalDiskStorage(settings.files_root)


def request_storage(request: Request) -> ObjectStorage:
    return storage_for(request.app.state.settings)
