"""Sign in and out: a name in development (the same name is the same user as `make token`),
OpenID Connect with PKCE in production. Never a password form of our own."""

from __future__ import annotations

import re

import jwt as pyjwt
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import SecretStr

from journey_web.deps import FormDep, SessionDep, SettingsDep, redirect, render, safe_next
from journey_web.oidc import OidcClient, SignInFailed
from servicekit.auth import dev_user_id, mint_dev_token
from servicekit.settings import ServiceSettings

router = APIRouter()

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")


@router.get("/signin")
async def sign_in_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if session.signed_in:
        return redirect(safe_next(request.query_params.get("next")))
    return render(
        request, "signin.html", next=safe_next(request.query_params.get("next")), dev=settings.dev_sign_in, errors={}
    )


@router.post("/signin")
async def sign_in_dev(request: Request, form: FormDep, session: SessionDep, settings: SettingsDep) -> Response:
    """Development only: the settings refuse a JWT secret-based sign-in in production."""
    if not settings.dev_sign_in or settings.jwt_secret is None:
        return render(request, "error.html", status_code=404, message="Sign in through your school's account.")
    name = str(form.get("name") or "").strip()
    next_path = safe_next(form.get("next"))
    if not NAME.fullmatch(name):
        errors = {"name": "Use 1 to 40 letters, digits, spaces, dots, dashes or underscores, starting with one."}
        return render(request, "signin.html", status_code=422, next=next_path, dev=True, errors=errors, name=name)
    kit = ServiceSettings(
        environment=settings.environment,
        jwt_secret=SecretStr(settings.jwt_secret.get_secret_value()),
        jwt_issuer=settings.jwt_issuer,
        jwt_audience=settings.jwt_audience,
    )
    token = mint_dev_token(kit, name, ttl_seconds=settings.session_max_age_seconds)
    expires = int(pyjwt.decode(token, options={"verify_signature": False})["exp"])
    session.sign_in(token=token, user_id=str(dev_user_id(name)), name=name, expires_at=expires)
    session.say(f"Signed in as {name}.")
    return redirect(next_path)


@router.get("/signin/oidc")
async def sign_in_oidc(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if not settings.oidc_issuer:
        return render(request, "error.html", status_code=404, message="No single sign-on is configured here.")
    oidc: OidcClient = request.app.state.oidc
    url = await oidc.start(session, safe_next(request.query_params.get("next")))
    return redirect(url)


@router.get("/signin/callback")
async def sign_in_callback(request: Request, session: SessionDep) -> Response:
    oidc: OidcClient = request.app.state.oidc
    params = request.query_params
    if params.get("error"):
        session.oidc = None
        message = f"The sign-in was not completed: {params.get('error_description') or params['error']}."
        return render(request, "error.html", status_code=400, message=message)
    try:
        next_path = await oidc.finish(session, code=params.get("code", ""), state=params.get("state", ""))
    except SignInFailed as exc:
        session.oidc = None
        session.modified = True
        return render(request, "error.html", status_code=400, message=f"Sign-in failed: {exc}.")
    session.say(f"Signed in as {session.name}.")
    return redirect(safe_next(next_path))


@router.post("/signout")
async def sign_out(form: FormDep, session: SessionDep) -> Response:
    session.sign_out()
    session.say("Signed out.")
    return redirect("/signin")
