"""A real Chromium (Debian's `chromium` package) driven by Playwright for Python, on the e2e
stack's gateway; axe-core checks each page. Without Chromium, Playwright or axe-core the tests
skip and say which is missing (`.ci/run` and `make test` install them)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(os.environ.get("AXE_CORE_JS", ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
# Debian's Chromium, headless, with nothing reaching out to the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if os.environ.get("E2E_STACK", "embedded") == "compose":
        return "the compose deployment serves no web app yet (E2E_STACK=compose): browser tests skipped"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (make install)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium): browser tests skipped"
    return None


# Module scope, not session: Playwright's sync API keeps an asyncio loop marked running in this
# thread while it is open, and every async test after it (pytest-asyncio) would then fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (make test installs it with npm): accessibility tests skipped")
    return AXE.read_text()
