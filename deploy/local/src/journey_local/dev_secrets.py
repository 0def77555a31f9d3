"""Development secrets, made once per data directory and never written in the code.

A published constant secret lets anyone mint tokens or sign webhooks for any local stack; one
generated on first start and kept (mode 0600) beside the data is known only to this machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from servicekit.auth import mint_dev_token
from servicekit.settings import ServiceSettings

FILE_NAME = "dev-secrets.env"


@dataclass(frozen=True)
class DevSecrets:
    jwt_secret: str
    stripe_webhook_secret: str
    web_session_secret: str

    def env(self) -> dict[str, str]:
        """The environment a development stack's processes run with (development is never implied)."""
        return {
            "ENVIRONMENT": "development",
            "JWT_SECRET": self.jwt_secret,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "WEB_SESSION_SECRET": self.web_session_secret,
        }

    def mint_token(self, name: str) -> str:
        """A development token for user `name` that this stack's services accept."""
        settings = ServiceSettings(environment="development", jwt_secret=SecretStr(self.jwt_secret))
        return mint_dev_token(settings, name)

    @classmethod
    def generate(cls) -> DevSecrets:
        return cls(
            jwt_secret=secrets.token_urlsafe(48),
            stripe_webhook_secret="whsec_" + secrets.token_urlsafe(32),
            web_session_secret=secrets.token_urlsafe(48),
        )

    @classmethod
    def read(cls, data_dir: Path) -> DevSecrets:
        """The secrets of an existing data directory; FileNotFoundError when it has none yet."""
        path = data_dir / FILE_NAME
        values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        if "WEB_SESSION_SECRET" not in values:  # a data folder from before the web app: add its secret
            values["WEB_SESSION_SECRET"] = secrets.token_urlsafe(48)
            with path.open("a") as out:
                out.write(f"WEB_SESSION_SECRET={values['WEB_SESSION_SECRET']}\n")
        return cls(
            jwt_secret=values["JWT_SECRET"],
            stripe_webhook_secret=values["STRIPE_WEBHOOK_SECRET"],
            web_session_secret=values["WEB_SESSION_SECRET"],
        )

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DevSecrets:
        try:
            return cls.read(data_dir)
        except FileNotFoundError:
            pass
        made = cls.generate()
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / FILE_NAME
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# Generated on first start; delete it (with the data) to make new ones.\n")
            out.write(f"JWT_SECRET={made.jwt_secret}\nSTRIPE_WEBHOOK_SECRET={made.stripe_webhook_secret}\n")
            out.write(f"WEB_SESSION_SECRET={made.web_session_secret}\n")
        return made
