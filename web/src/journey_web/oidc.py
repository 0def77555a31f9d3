"""Production sign-in: OpenID Connect authorization code with PKCE (S256), through authlib.

The state, the PKCE verifier and the nonce wait in the encrypted session cookie between the
redirect and the callback; the ID token is verified against the issuer's JWKS (signature, iss,
aud, exp, nonce) before the access token is kept server-side for the API calls."""

from __future__ import annotations

import time
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from journey_web.session import Session
from journey_web.settings import WebSettings


class SignInFailed(Exception):
    pass


class OidcClient:
    def __init__(self, settings: WebSettings, transport: Any = None) -> None:
        self.settings = settings
        # Every call to the issuer goes through authlib's client (built on httpx2 where it is
        # installed, as here); tests put an issuer of their own here as that library's transport.
        self.transport = transport
        self._metadata: dict[str, Any] | None = None

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/signin/callback"

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = (self.settings.oidc_issuer or "").rstrip("/")
            async with self._client() as client:
                response = await client.request(
                    "GET", f"{issuer}/.well-known/openid-configuration", withhold_token=True
                )
                response.raise_for_status()
                self._metadata = response.json()
        return self._metadata

    def _client(self) -> AsyncOAuth2Client:
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self.settings.oidc_scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            transport=self.transport,
            timeout=10,
        )

    async def start(self, session: Session, next_path: str) -> str:
        """The issuer's authorization URL; what the callback will need goes into the session."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
        session.oidc = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path}
        session.modified = True
        return str(url)

    async def finish(self, session: Session, *, code: str, state: str) -> str:
        """Exchange the code, verify the ID token, sign the student in; the path to go back to."""
        pending = session.oidc
        if not pending or not state or state != pending.get("state"):
            raise SignInFailed("the sign-in was not started here, or it was started again in another tab")
        meta = await self.metadata()
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    code=code,
                    code_verifier=pending["verifier"],
                    grant_type="authorization_code",
                )
            except Exception as exc:  # authlib raises OAuthError and httpx errors alike
                raise SignInFailed(f"the issuer refused the code: {exc}") from None
        claims = await self._verify_id_token(str(token.get("id_token") or ""), pending["nonce"], meta)
        access_token = token.get("access_token")
        if not access_token:
            raise SignInFailed("the issuer sent no access token")
        expires_at = token.get("expires_at") or (int(time.time()) + int(token.get("expires_in") or 3600))
        name = str(claims.get("name") or claims.get("preferred_username") or claims.get("email") or "student")
        session.sign_in(token=str(access_token), user_id=str(claims["sub"]), name=name, expires_at=int(expires_at))
        return pending.get("next") or "/"

    async def _verify_id_token(self, id_token: str, nonce: str, meta: dict[str, Any]) -> dict[str, Any]:
        if not id_token:
            raise SignInFailed("the issuer sent no ID token")
        async with self._client() as client:
            keys = (await client.request("GET", meta["jwks_uri"], withhold_token=True)).json()
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=["RS256", "ES256", "PS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": str(meta.get("issuer") or self.settings.oidc_issuer)},
                aud={"essential": True, "value": str(self.settings.oidc_client_id)},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except Exception as exc:  # joserfc raises a family of errors; every one refuses the token
            raise SignInFailed(f"the ID token did not verify: {exc}") from None
        return dict(decoded.claims)
