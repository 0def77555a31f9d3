"""The import contracts `make lint` runs are generated from what exists (every service, every
lib) and they do fail on a service importing another, or a repository importing its router."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from journey_local import import_contracts
from journey_local.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_contracts_name_every_service_and_lib() -> None:
    on_disk = {p.parent.name for p in ROOT.glob("services/*/src/*/__init__.py")}
    assert on_disk == {d.name for d in SERVICES} >= {"profiler", "billing"}
    config = import_contracts.render()
    for name in on_disk:
        assert f"\n    {name}\n" in config or config.endswith(f"\n    {name}\n")
        assert f"    {name}.*" in config
    for lib in ("servicekit", "contracts", "entitlements"):
        assert f"\n    {lib}" in config
    assert "[importlinter:contract:clients-use-the-apis]\n" in config
    assert "source_modules =\n    journey_web\n" in config


def _lint(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    config = tmp_path / "contracts.ini"
    config.write_text(import_contracts.render(libs=["kitlib"], services=["svca", "svcb"], clients=["webapp"]))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(config)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


CLEAN = {
    "kitlib/__init__.py": "",
    "journey_local/__init__.py": "",
    "svca/__init__.py": "",
    "svca/things/__init__.py": "",
    "svca/things/router.py": "from svca.things import service\n",
    "svca/things/service.py": "from svca.things import repository\nimport kitlib\n",
    "svca/things/repository.py": "",
    "svcb/__init__.py": "",
    "webapp/__init__.py": "import kitlib\n",
}


def test_a_clean_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(tmp_path, CLEAN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_a_service_importing_another_breaks_the_build(tmp_path: Path) -> None:
    result = _lint(tmp_path, {**CLEAN, "svca/spy.py": "from svcb import models\n", "svcb/models.py": ""})
    assert result.returncode != 0
    assert "svca is not allowed to import svcb" in result.stdout


def test_a_repository_importing_its_router_breaks_the_build(tmp_path: Path) -> None:
    result = _lint(tmp_path, {**CLEAN, "svca/things/repository.py": "from svca.things import router\n"})
    assert result.returncode != 0
    assert "svca.things.repository is not allowed to import" in result.stdout


def test_a_lib_importing_a_service_breaks_the_build(tmp_path: Path) -> None:
    result = _lint(tmp_path, {**CLEAN, "kitlib/__init__.py": "import svca\n"})
    assert result.returncode != 0


def test_the_web_app_importing_a_service_or_the_launcher_breaks_the_build(tmp_path: Path) -> None:
    for imported in ("svca.things.repository", "journey_local"):
        result = _lint(tmp_path, {**CLEAN, "webapp/__init__.py": f"import {imported}\n"})
        assert result.returncode != 0
        assert "webapp is not allowed to import" in result.stdout


def test_a_service_importing_the_web_app_breaks_the_build(tmp_path: Path) -> None:
    result = _lint(tmp_path, {**CLEAN, "svca/things/service.py": "import webapp\n"})
    assert result.returncode != 0
