"""The web app fails closed like the services, and its session cookie is opaque and tamper-proof."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from journey_web.problems import ApiProblem
from journey_web.session import Session, SessionCodec, cookie_name
from journey_web.settings import WebSettings

SECRET = "s" * 40


def test_production_is_the_default_and_needs_oidc_https_and_a_session_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "JWT_SECRET", "WEB_SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="OpenID Connect"):
        WebSettings(web_session_secret=SECRET)
    with pytest.raises(ValidationError, match="HTTPS"):
        WebSettings(web_session_secret=SECRET, oidc_issuer="https://id.example", oidc_client_id="web")
    with pytest.raises(ValidationError, match="WEB_SESSION_SECRET"):
        WebSettings(
            web_session_secret="short",
            oidc_issuer="https://id.example",
            oidc_client_id="web",
            public_base_url="https://journey.example",
        )
    production = WebSettings(
        web_session_secret=SECRET,
        oidc_issuer="https://id.example",
        oidc_client_id="web",
        public_base_url="https://journey.example",
        jwt_secret="j" * 40,  # even with a JWT secret about, production never offers the name sign-in
    )
    assert production.environment == "production"
    assert not production.dev_sign_in
    assert production.secure_cookies
    assert cookie_name(production) == "__Host-journey"
    development = WebSettings(environment="development", web_session_secret=SECRET, jwt_secret="j" * 40)
    assert development.dev_sign_in
    assert not WebSettings(environment="development", web_session_secret=SECRET).dev_sign_in


def test_the_cookie_is_encrypted_and_a_forged_one_is_no_session() -> None:
    codec = SessionCodec(WebSettings(environment="test", web_session_secret=SECRET))
    session = Session()
    session.sign_in(token="the.bearer.token", user_id="u-1", name="ada", expires_at=None)
    cookie = codec.encode(session)
    assert "bearer" not in cookie
    assert "ada" not in cookie
    back = codec.decode(cookie)
    assert back.signed_in
    assert back.token == "the.bearer.token"
    assert back.csrf == session.csrf
    forged = cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:]
    assert not codec.decode(forged).signed_in
    other = SessionCodec(WebSettings(environment="test", web_session_secret="t" * 40))
    assert not other.decode(cookie).signed_in
    assert not codec.decode("not a cookie").signed_in


def test_signing_in_and_out_renews_the_csrf_token() -> None:
    session = Session()
    before = session.csrf
    session.sign_in(token="t", user_id="u", name="n", expires_at=None)
    assert session.csrf != before
    assert session.csrf_ok(session.csrf)
    assert not session.csrf_ok(before)
    assert not session.csrf_ok(None)
    signed_in = session.csrf
    session.sign_out()
    assert not session.signed_in
    assert session.csrf != signed_in


def _problem(status: int, body: dict[str, object]) -> ApiProblem:
    return ApiProblem.from_response(httpx.Response(status, json=body))


def test_problems_in_words() -> None:
    too_big = _problem(413, {"detail": "files[1] is larger", "field": "files[1]", "max_file_bytes": 5 * 1024 * 1024})
    assert too_big.in_words(filenames=["a.png", "b.pdf"]) == "“b.pdf” is too large: a file may be at most 5 MiB."
    total = _problem(413, {"field": "files", "max_submission_bytes": 15 * 1024 * 1024})
    assert "at most 15 MiB" in total.in_words()
    zipped = _problem(415, {"field": "files[0]", "detected_type": "application/zip"})
    assert zipped.in_words(filenames=["photo.png"]).startswith("“photo.png” is a ZIP archive by its contents")
    invalid = _problem(
        422, {"detail": "x", "errors": [{"field": "schedule.times", "message": "Value error, needs 1-7"}]}
    )
    assert invalid.field_errors({"schedule.times": "times"}) == {"times": "needs 1-7"}
    assert invalid.field_errors() == {"times": "needs 1-7"}
    assert _problem(402, {"detail": "limit", "lifted_by": "plus"}).needs_upgrade
    assert "busy" in ApiProblem.from_response(httpx.Response(502, text="<html>bad gateway</html>")).in_words()
