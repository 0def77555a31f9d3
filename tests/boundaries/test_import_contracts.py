"""The import contracts cover every service there is: one added under services/ without being
named in [tool.importlinter] would be checked by nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _service_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("services/*/src/*/__init__.py")}


def _config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config


def _contract(contract_id: str) -> dict[str, Any]:
    contract: dict[str, Any] = next(c for c in _config()["contracts"] if c["id"] == contract_id)
    return contract


def test_every_service_is_independent_of_the_others() -> None:
    services = _service_packages()
    assert services >= {"profiler", "billing"}
    assert set(_contract("services-independent")["modules"]) == services
    assert services <= set(_config()["root_packages"])


def test_libs_may_import_no_service() -> None:
    forbidden = set(_contract("libs-below-services")["forbidden_modules"])
    assert _service_packages() <= forbidden
    libs = {p.parent.name for p in ROOT.glob("libs/*/src/*/__init__.py")}
    assert set(_contract("libs-below-services")["source_modules"]) == libs


def test_every_service_is_layered() -> None:
    containers = set(_contract("service-layers")["containers"])
    assert containers == {f"{name}.*" for name in _service_packages()}
