"""Bearer JWT verification (every service checks; the gateway is not trusted to) and dev tokens."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.errors import Unauthorized
from servicekit.logging import get_logger
from servicekit.settings import ServiceSettings

log = get_logger(__name__)

# Far above any real token (a few hundred bytes to a few KB); bounds the work a forged one costs.
MAX_TOKEN_LENGTH = 8192

# Verified tokens remembered per process (about 1 KB each).
VERIFIED_CACHE_SIZE = 4096

# Same name, same user id: `make token USER=ada` is stable across runs and machines.
DEV_USER_NAMESPACE = uuid.UUID("6f1c2d7e-5a8b-4c3d-9e0f-1a2b3c4d5e6f")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    roles: frozenset[str] = field(default_factory=frozenset)
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def dev_user_id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEV_USER_NAMESPACE, name)


def mint_dev_token(
    settings: ServiceSettings, name: str, *, ttl_seconds: int = 12 * 3600, roles: list[str] | None = None
) -> str:
    """An HS256 development token for user `name`; refused outside development/test."""
    if settings.environment == "production" or settings.jwt_algorithm != "HS256" or settings.jwt_secret is None:
        raise RuntimeError("development tokens exist only with the HS256 development secret")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(dev_user_id(name)),
        "name": name,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if roles:
        claims["roles"] = roles
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class TokenVerifier:
    """Verifies with one pinned algorithm; keys from the HS256 secret or a JWKS URL."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        # Token -> (principal, exp). A client sends the same token on every request until it
        # expires: checking it once saves the decode and signature on each one after (a few % of
        # a hot read's CPU). Keyed by the whole token, honoured only until its own `exp`.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @property
    def verifies_locally(self) -> bool:
        """True when no key can need fetching (HS256 with the configured secret)."""
        return self.settings.jwt_algorithm == "HS256"

    def _key(self, token: str) -> Any:
        if self.settings.jwt_algorithm == "HS256":
            if self.settings.jwt_secret is None:  # settings validation refuses this; never verify with ""
                raise jwt.InvalidKeyError("no HS256 secret configured")
            return self.settings.jwt_secret.get_secret_value()
        if self._jwks is None:
            raise jwt.InvalidKeyError("no JWKS configured")
        return self._jwks.get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > time.time():
                return cached[0]
            del self._verified[token]
        principal = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (principal, float(principal.claims["exp"]))
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
            user_id = uuid.UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError) as exc:
            # The reason is for our logs; telling a caller which check failed helps forge the next try.
            log.info("token_rejected", reason=str(exc)[:200], error_type=type(exc).__name__)
            raise Unauthorized("invalid_token: the bearer token is not valid") from exc
        roles = claims.get("roles")
        if not isinstance(roles, list):
            roles = []  # a malformed claim grants nothing
        return Principal(user_id=user_id, roles=frozenset(r for r in roles if isinstance(r, str)), claims=claims)


bearer_scheme = HTTPBearer(auto_error=False, description="a JWT from the identity provider (dev: make token)")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("missing bearer token", error=None)
    token = credentials.credentials.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        log.info("token_rejected", reason="oversized", length=len(token))
        raise Unauthorized("invalid_token: the bearer token is not valid")
    verifier: TokenVerifier = request.app.state.token_verifier
    if verifier.verifies_locally:
        principal = verifier.verify(token)  # an HMAC check: microseconds, no reason to leave the loop
    else:
        # A JWKS key may have to be fetched over the network: never on the event loop.
        principal = await anyio.to_thread.run_sync(verifier.verify, token)
    request.state.user_id = principal.user_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
