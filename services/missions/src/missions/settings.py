from __future__ import annotations

from pathlib import Path

from servicekit.settings import ServiceSettings

MIB = 1024 * 1024


class MissionsSettings(ServiceSettings):
    service_name: str = "missions"
    # Where the local stack keeps its data (the launcher sets DATA_DIR to its --data-dir);
    # submission files go under `<data_dir>/missions-files` unless FILES_DIR says otherwise.
    data_dir: Path = Path(".data")
    files_dir: Path | None = None
    max_file_bytes: int = 5 * MIB
    max_submission_bytes: int = 15 * MIB  # all files of one submission together
    max_files_per_submission: int = 5
    max_text_chars: int = 20_000
    max_submissions_per_enrollment: int = 3  # the first submission and two resubmissions
    review_retry_after_seconds: int = 2
    # The worker removes stored files no row names (a crash mid-upload) once they are this old;
    # far longer than any upload takes (the gateway allows 30 s to read a request).
    files_sweep_after_seconds: float = 3600.0
    files_sweep_interval_seconds: float = 600.0

    @property
    def files_root(self) -> Path:
        return self.files_dir or self.data_dir / "missions-files"

    @property
    def submission_body_limit(self) -> int:
        """The submission route's body cap: every file at the cap, the text part, multipart framing."""
        return self.max_submission_bytes + self.max_text_chars * 4 + 64 * 1024
