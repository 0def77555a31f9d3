"""One NATS server config for the local stack and compose: JetStream acknowledges only what is on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from journey_local.nats import CONFIG_FILE, SYNC_ALWAYS, EmbeddedNats
from journey_local.procs import bin_path, free_port, spawn, stop, wait_for_port


def test_the_local_stack_starts_nats_with_the_shared_file(tmp_path: Path) -> None:
    assert SYNC_ALWAYS in CONFIG_FILE.read_text()
    assert EmbeddedNats(tmp_path, 1)._config() == CONFIG_FILE
    # Only the JetStream bench's comparison runs without it.
    assert SYNC_ALWAYS not in EmbeddedNats(tmp_path, 1, sync_always=False)._config().read_text()


def test_the_server_reads_it_as_sync_always(tmp_path: Path) -> None:
    """What the running server reports (/varz), from the file and the environment compose sets."""
    nats = EmbeddedNats(tmp_path, free_port())
    monitor = free_port()
    proc = spawn(
        [bin_path("nats-server"), "-c", str(CONFIG_FILE), "-m", str(monitor)], log=tmp_path / "nats.log", env=nats.env()
    )
    try:
        wait_for_port(monitor, proc=proc)
        jetstream = httpx.get(f"http://127.0.0.1:{monitor}/varz", timeout=5).json()["jetstream"]["config"]
        assert jetstream["sync_always"] is True
        assert jetstream["store_dir"].startswith(str(tmp_path))
    finally:
        stop(proc)
        shutil.rmtree(tmp_path / "jetstream", ignore_errors=True)
