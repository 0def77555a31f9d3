"""Development secrets belong to one data directory: generated on first start, kept, private."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from journey_local.__main__ import main
from journey_local.dev_secrets import FILE_NAME, DevSecrets
from servicekit.auth import dev_user_id


def test_generated_once_per_data_directory(tmp_path: Path) -> None:
    first = DevSecrets.load_or_create(tmp_path / "a")
    assert DevSecrets.load_or_create(tmp_path / "a") == first
    other = DevSecrets.load_or_create(tmp_path / "b")
    assert other.jwt_secret != first.jwt_secret
    assert other.stripe_webhook_secret != first.stripe_webhook_secret
    assert first.stripe_webhook_secret.startswith("whsec_")
    assert len(first.jwt_secret) >= 32
    assert len(first.web_session_secret) >= 32
    assert other.web_session_secret != first.web_session_secret
    mode = stat.S_IMODE((tmp_path / "a" / FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_stack_environment_is_explicitly_development(tmp_path: Path) -> None:
    env = DevSecrets.load_or_create(tmp_path).env()
    assert env["ENVIRONMENT"] == "development"
    assert env["JWT_SECRET"]
    assert env["STRIPE_WEBHOOK_SECRET"]
    assert env["WEB_SESSION_SECRET"]


def test_a_data_directory_from_before_the_web_app_gets_its_session_secret(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("JWT_SECRET=" + "j" * 48 + "\nSTRIPE_WEBHOOK_SECRET=whsec_x\n")
    added = DevSecrets.read(tmp_path)
    assert len(added.web_session_secret) >= 32
    assert added.jwt_secret == "j" * 48
    assert DevSecrets.read(tmp_path) == added  # written once, kept


def test_make_token_signs_with_the_data_directory_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = DevSecrets.load_or_create(tmp_path)
    main(["token", "--data-dir", str(tmp_path), "ada"])
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, secrets.jwt_secret, algorithms=["HS256"], audience="journey")
    assert claims["sub"] == str(dev_user_id("ada"))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, DevSecrets.generate().jwt_secret, algorithms=["HS256"], audience="journey")


def test_make_token_without_a_stack_explains(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make run"):
        main(["token", "--data-dir", str(tmp_path / "empty"), "ada"])
