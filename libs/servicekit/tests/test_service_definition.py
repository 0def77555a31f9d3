"""ServiceDefinition's extra commands and the draining signal streams watch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from servicekit.service import Command, ServiceDefinition
from servicekit.settings import ServiceSettings

SECRET = "s" * 40


def _definition(ran: list[Any]) -> ServiceDefinition[ServiceSettings]:
    def rebuild(settings: ServiceSettings) -> int:
        ran.append(settings.service_name)
        return 3

    return ServiceDefinition(
        name="scratch",
        settings_class=ServiceSettings,
        routers=lambda _settings: [],
        migrations_dir=Path("."),
        default_port=1,
        streaming_paths=("/me/stream",),
        commands={"rebuild": Command("replay everything", rebuild)},
    )


def test_an_extra_command_runs_with_the_services_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    ran: list[Any] = []
    with pytest.raises(SystemExit) as exit_:
        _definition(ran).cli(["rebuild"])
    assert exit_.value.code == 3
    assert ran == ["scratch"]


def test_unknown_commands_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _definition([]).cli(["explode"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_app_has_a_draining_signal() -> None:
    definition = _definition([])
    app = definition.app(definition.settings(environment="test", jwt_secret=SECRET))
    assert not app.state.draining.is_set()
    assert definition.streaming_paths == ("/me/stream",)
