"""Production sign-in against an OpenID Connect issuer played by the test (an httpx transport):
authorization code with PKCE S256, the ID token verified (signature, iss, aud, nonce), the access
token kept in the encrypted cookie; a forged state, a wrong nonce or a wrong verifier sign no one in."""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from journey_web.app import create_app
from journey_web.settings import WebSettings

# authlib's client is built on httpx2 where it is installed (openai brings it), else on httpx.
issuer_http = importlib.import_module("httpx2" if importlib.util.find_spec("httpx2") else "httpx")

ISSUER = "https://id.example"
APP = "https://journey.example"


class Issuer:
    """Discovery, JWKS and a token endpoint that checks the PKCE verifier against the challenge."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.challenges: dict[str, tuple[str, str]] = {}  # code -> (challenge, nonce)
        self.nonce_override: str | None = None
        self.token_requests: list[dict[str, list[str]]] = []

    def authorize(self, url: str) -> str:
        """What the issuer does after the student signs in: a code for this challenge."""
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["response_type"] == ["code"]
        code = f"code-{len(self.challenges)}"
        self.challenges[code] = (query["code_challenge"][0], query["nonce"][0])
        return code

    def handle(self, request: Any) -> Any:
        if request.url.path == "/.well-known/openid-configuration":
            return issuer_http.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if request.url.path == "/jwks":
            return issuer_http.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if request.url.path == "/token":
            form = parse_qs(request.content.decode())
            self.token_requests.append(form)
            challenge, nonce = self.challenges.pop(form["code"][0], ("", ""))
            verifier = form.get("code_verifier", [""])[0]
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not challenge or digest != challenge:
                return issuer_http.Response(400, json={"error": "invalid_grant"})
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "aud": "journey-web",
                "sub": "0b9f4c1e-8a7d-4f52-9c1a-3e5d7b6a2f10",
                "name": "Ada Lovelace",
                "iat": now,
                "exp": now + 300,
                "nonce": self.nonce_override or nonce,
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
            return issuer_http.Response(
                200,
                json={
                    "access_token": "access-for-the-apis",
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "id_token": id_token,
                },
            )
        return issuer_http.Response(404)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def browser(issuer: Issuer) -> httpx.AsyncClient:
    settings = WebSettings(
        environment="production",
        web_session_secret="p" * 40,
        public_base_url=APP,
        oidc_issuer=ISSUER,
        oidc_client_id="journey-web",
        oidc_client_secret="client-secret",
    )
    app = create_app(settings, oidc_transport=issuer_http.MockTransport(issuer.handle))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP)


async def _start(browser: httpx.AsyncClient) -> str:
    page = await browser.get("/signin")
    assert page.status_code == 200
    assert 'name="name"' not in page.text  # no password or name form of our own in production
    assert "/signin/oidc" in page.text
    redirect = await browser.get("/signin/oidc?next=/today")
    assert redirect.status_code == 303
    location = redirect.headers["location"]
    assert location.startswith(f"{ISSUER}/authorize?")
    cookie = redirect.headers["set-cookie"]
    assert cookie.startswith("__Host-journey=")
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"))
    return location


async def test_authorization_code_with_pkce_signs_the_student_in(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    location = await _start(browser)
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [f"{APP}/signin/callback"]
    code = issuer.authorize(location)
    back = await browser.get(f"/signin/callback?code={code}&state={query['state'][0]}")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/today"
    assert "code_verifier" in issuer.token_requests[0]
    assert "access-for-the-apis" not in back.headers["set-cookie"]  # encrypted, never readable
    signed_in = await browser.get("/signin")
    assert signed_in.status_code == 303  # a signed-in student is sent on


async def test_a_state_that_was_not_issued_here_signs_no_one_in(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    location = await _start(browser)
    code = issuer.authorize(location)
    forged = await browser.get(f"/signin/callback?code={code}&state=someone-elses")
    assert forged.status_code == 400
    assert "not started here" in forged.text
    assert (await browser.get("/signin")).status_code == 200


async def test_an_id_token_for_another_nonce_signs_no_one_in(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    location = await _start(browser)
    issuer.nonce_override = "replayed-nonce"
    state = parse_qs(urlsplit(location).query)["state"][0]
    refused = await browser.get(f"/signin/callback?code={issuer.authorize(location)}&state={state}")
    assert refused.status_code == 400
    assert "did not verify" in refused.text
    assert (await browser.get("/signin")).status_code == 200


async def test_a_code_without_its_verifier_is_refused_by_the_issuer(browser: httpx.AsyncClient, issuer: Issuer) -> None:
    location = await _start(browser)
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = issuer.authorize(location)
    issuer.challenges[code] = ("another-challenge", "n")
    refused = await browser.get(f"/signin/callback?code={code}&state={state}")
    assert refused.status_code == 400
    assert "refused the code" in refused.text


async def test_the_name_sign_in_does_not_exist_in_production(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/signin")
    assert "csrf_token" not in page.text  # no form at all: a link to the issuer
    posted = await browser.post("/signin", data={"csrf_token": "any", "name": "ada"})
    assert posted.status_code in (403, 404)
    assert (await browser.get("/signin")).status_code == 200  # still signed out
