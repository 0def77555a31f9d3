"""One ASGI middleware: the session cookie in and out, the security headers on every answer, and
the cap on what a request body may bring.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware, which would sit between the
live relay's stream and the browser."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journey_web.session import Session, SessionCodec, cookie_name
from journey_web.settings import WebSettings

# No inline script or style anywhere: the pages load /static/app.js and /static/app.css only.
# form-action allows Stripe's hosted checkout and portal, which a form's redirect reaches.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self' https://checkout.stripe.com https://billing.stripe.com; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class BodyTooLarge(Exception):
    """More than `MAX_UPLOAD_BYTES` arrived. Raised while the body is read, so a chunked body (no
    Content-Length to refuse up front) is cut off too, not spooled to disk without end."""


def session_of(scope: Scope) -> Session:
    session: Session = scope["state"]["session"]
    return session


class SessionAndHeaders:
    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.codec = SessionCodec(settings)
        self.cookie = cookie_name(settings)

    def _read_cookie(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header is no session, not an error
                    return None
                if self.cookie in jar:
                    return jar[self.cookie].value
        return None

    def _set_cookie(self, session: Session) -> bytes:
        parts = [
            f"{self.cookie}={self.codec.encode(session)}",
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            f"Max-Age={self.codec.max_age}",
        ]
        if self.settings.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.codec.decode(self._read_cookie(scope))
        scope.setdefault("state", {})["session"] = session
        limit, received = self.settings.max_upload_bytes, 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (k, v) for k, v in message.get("headers", []) if k.decode("latin-1").lower() not in SECURITY_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if session.modified and not scope["path"].startswith("/static/"):
                    headers.append((b"set-cookie", self._set_cookie(session)))
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, capped_receive, send_with_headers)
