"""What a page needs from its request: the session, the signed-in student's API, a form whose
CSRF token has been checked, and rendering with the layout's context."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from journey_web.api_client import Api
from journey_web.middleware import session_of
from journey_web.session import CSRF_FIELD, Session
from journey_web.settings import WebSettings
from servicekit.text_guard import isolated

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# `{{ habit.name | isolated }}`: what a student typed, set apart from the sentence around it.
templates.env.filters["isolated"] = isolated

NAV = (
    ("/", "Home"),
    ("/today", "Today"),
    ("/journal", "Journal"),
    ("/missions", "Missions"),
    ("/persona", "Persona"),
    ("/billing", "Plan"),
)


class SignInRequired(Exception):
    """Raised by a page that needs a student; the app answers with a redirect to sign in."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class CsrfFailed(Exception):
    pass


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Session:
    return session_of(request.scope)


@dataclass
class Student:
    session: Session
    api: Api

    @property
    def name(self) -> str:
        return self.session.name or "student"


def current_student(request: Request) -> Student:
    session = session_of(request.scope)
    if not session.signed_in:
        if session.token is not None:  # expired: forget it
            session.sign_out()
            session.say("Your session ended. Sign in again to carry on.")
        raise SignInRequired(request.url.path)
    http: httpx.AsyncClient = request.app.state.http
    return Student(session, Api(http, session.token))


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    if not session_of(request.scope).csrf_ok(form.get(CSRF_FIELD)):
        raise CsrfFailed
    return form


SessionDep = Annotated[Session, Depends(get_session)]
StudentDep = Annotated[Student, Depends(current_student)]
FormDep = Annotated[FormData, Depends(checked_form)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    session = session_of(request.scope)
    base = {
        "request": request,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf,
        "student": session.name if session.signed_in else None,
        "nav": NAV,
        "current_path": request.url.path,
        "flash": session.take_flash(),
        # A fresh Idempotency-Key per rendered form: a double submit (or a retry) creates once.
        "new_key": lambda: secrets.token_urlsafe(16),
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)


def too_large_message(settings: WebSettings) -> str:
    return f"That was too large to send: a submission may be at most {settings.max_upload_bytes // 2**20} MiB."


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def sign_in_url(next_path: str) -> str:
    return "/signin" + (f"?next={quote(next_path)}" if next_path not in ("", "/") else "")


def safe_next(value: object) -> str:
    """Only a local path (never `//host` or a scheme): an open redirect would lend our name."""
    text = value if isinstance(value, str) else "/"
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"
