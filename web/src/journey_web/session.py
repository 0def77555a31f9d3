"""The browser's session: one encrypted cookie (Fernet: AES-128-CBC + HMAC-SHA256), HttpOnly,
SameSite=Lax, Secure over HTTPS. It holds the student's bearer token, which the browser can
neither read (HttpOnly) nor decrypt (the key never leaves the server), and the CSRF token every
form carries. Stateless, so any number of web processes serve any student and a restart signs
no one out; signing out clears it, and the token's own expiry bounds a stolen cookie."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from journey_web.settings import WebSettings

CSRF_FIELD = "csrf_token"


def cookie_name(settings: WebSettings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and host-only.
    return "__Host-journey" if settings.secure_cookies else "journey_session"


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"journey-web session").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass
class Session:
    """What the cookie carries. `modified` tells the middleware to send it again."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token: str | None = None
    user_id: str | None = None
    name: str | None = None
    token_expires_at: int | None = None
    oidc: dict[str, str] | None = None  # state, PKCE verifier and nonce between redirect and callback
    flash: list[str] = field(default_factory=list)
    modified: bool = False

    @property
    def signed_in(self) -> bool:
        return self.token is not None and (self.token_expires_at is None or self.token_expires_at > time.time())

    def sign_in(self, *, token: str, user_id: str, name: str, expires_at: int | None) -> None:
        # A new CSRF token on sign-in: one planted before it (login CSRF) is worth nothing after.
        self.csrf = secrets.token_urlsafe(32)
        self.token, self.user_id, self.name, self.token_expires_at = token, user_id, name, expires_at
        self.oidc = None
        self.modified = True

    def sign_out(self) -> None:
        self.csrf = secrets.token_urlsafe(32)
        self.token = self.user_id = self.name = None
        self.token_expires_at = None
        self.oidc = None
        self.modified = True

    def say(self, message: str) -> None:
        """A message for the next page (after a redirect)."""
        self.flash.append(message)
        self.modified = True

    def take_flash(self) -> list[str]:
        messages, self.flash = self.flash, []
        if messages:
            self.modified = True
        return messages

    def csrf_ok(self, sent: object) -> bool:
        return isinstance(sent, str) and hmac.compare_digest(sent.encode(), self.csrf.encode())

    def _data(self) -> dict[str, Any]:
        return {
            "csrf": self.csrf,
            "token": self.token,
            "user_id": self.user_id,
            "name": self.name,
            "exp": self.token_expires_at,
            "oidc": self.oidc,
            "flash": self.flash,
        }


class SessionCodec:
    def __init__(self, settings: WebSettings) -> None:
        assert settings.web_session_secret is not None  # the settings refuse to start without one
        self._fernet = _fernet(settings.web_session_secret.get_secret_value())
        self.max_age = settings.session_max_age_seconds

    def encode(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(session._data(), separators=(",", ":")).encode()).decode()

    def decode(self, cookie: str | None) -> Session:
        """The session in the cookie, or a new empty one when it is absent, forged, or too old."""
        if not cookie:
            return Session(modified=True)
        try:
            data = json.loads(self._fernet.decrypt(cookie.encode(), ttl=self.max_age))
        except (InvalidToken, ValueError):
            return Session(modified=True)
        return Session(
            csrf=str(data.get("csrf") or secrets.token_urlsafe(32)),
            token=data.get("token"),
            user_id=data.get("user_id"),
            name=data.get("name"),
            token_expires_at=data.get("exp"),
            oidc=data.get("oidc"),
            flash=list(data.get("flash") or []),
        )
