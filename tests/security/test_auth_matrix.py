"""Every bad token for every operation that needs one, found from the OpenAPI documents: always a
401 problem with `WWW-Authenticate: Bearer`, never a 5xx, never the data; the same request with
a good token gets past authentication (so the 401s are about the token, not something else)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from journey_local.apps import documented_operations
from servicekit.api_caller import Caller, Request
from servicekit.openapi_walk import Operation
from servicekit.settings import ServiceSettings

PROTECTED = [op for op in documented_operations() if not op.public]
NO_CREDENTIALS = "Bearer"  # RFC 6750: a request without credentials gets no error code
INVALID = 'Bearer error="invalid_token"'


def _claims(settings: ServiceSettings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), signature])


def bad_authorizations(settings: ServiceSettings) -> dict[str, tuple[str | None, str]]:
    """Kind -> (Authorization header or None, the WWW-Authenticate the service must answer)."""
    assert settings.jwt_secret is not None
    secret = settings.jwt_secret.get_secret_value()

    def hs(claims: dict[str, Any], key: str = secret, algorithm: str = "HS256") -> str:
        return jwt.encode(claims, key, algorithm=algorithm)

    good = hs(_claims(settings))
    head, payload, signature = good.split(".")
    other_payload = _b64(json.dumps(_claims(settings, sub=str(uuid.uuid4()))).encode())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    tokens = {
        "garbage": "not-a-jwt",
        "three garbage segments": "a.b.c",
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, _claims(settings)),
        "alg none with a signature": _unsigned({"alg": "none", "typ": "JWT"}, _claims(settings), signature),
        "HS512 with the right secret": hs(_claims(settings), algorithm="HS512"),
        "HS384 with the right secret": hs(_claims(settings), algorithm="HS384"),
        "RS256 with a stranger's key": jwt.encode(_claims(settings), rsa_key, algorithm="RS256"),
        "ES256 with a stranger's key": jwt.encode(_claims(settings), ec_key, algorithm="ES256"),
        "wrong key": hs(_claims(settings), key="another-secret-of-the-same-length-0123456789abcdef"),
        "expired": hs(_claims(settings, iat=now - 7200, exp=now - 3600)),
        "expired a second ago (no leeway)": hs(_claims(settings, exp=now - 1)),
        "not yet valid": hs(_claims(settings, nbf=now + 3600)),
        "wrong issuer": hs(_claims(settings, iss="someone-else")),
        "wrong audience": hs(_claims(settings, aud="another-api")),
        "missing sub": hs(_claims(settings, sub=None)),
        "missing exp": hs(_claims(settings, exp=None)),
        "missing iss": hs(_claims(settings, iss=None)),
        "missing aud": hs(_claims(settings, aud=None)),
        "sub not a uuid": hs(_claims(settings, sub="ada")),
        "tampered payload": f"{head}.{other_payload}.{signature}",
        "tampered signature": f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        # A well-signed token is not refused for its size (the servers' header limits apply); a huge
        # forged one must still be a plain 401, not a 5xx or a hang.
        "oversized token": f"{head}.{_b64(b'{' + b'x' * 48_000 + b'}')}.{signature}",
        "NUL in the token": good[:10] + "\x00" + good[10:],
    }
    cases: dict[str, tuple[str | None, str]] = {
        "missing header": (None, NO_CREDENTIALS),
        "empty bearer": ("Bearer ", NO_CREDENTIALS),
        "wrong scheme": (f"Basic {_b64(b'ada:secret')}", NO_CREDENTIALS),
        "token without a scheme": (good, NO_CREDENTIALS),
    }
    cases.update({kind: (f"Bearer {token}", INVALID) for kind, token in tokens.items()})
    return cases


def test_the_matrix_has_the_kinds_it_claims() -> None:
    assert len(bad_authorizations(_test_settings())) >= 25
    assert PROTECTED, "no protected operation found in the OpenAPI documents"


def _test_settings() -> ServiceSettings:
    return ServiceSettings()  # the test environment and its secret, as every service gets them


@pytest.mark.parametrize("op", PROTECTED, ids=str)
async def test_every_bad_token_is_a_401_problem(
    op: Operation,
    new_caller: Callable[[str], Awaitable[Caller]],
    send: Callable[[Operation, Request], Awaitable[Any]],
) -> None:
    caller = await new_caller("auth")
    control = await send(op, caller.request(op))
    assert control.status_code != 401, f"{op} refuses a good token: {control.text[:200]}"
    failures = []
    for kind, (authorization, challenge) in bad_authorizations(_test_settings()).items():
        request = caller.request(op)
        del request.headers["Authorization"]
        if authorization is not None:
            request.headers["Authorization"] = authorization
        response = await send(op, request)
        ok = (
            response.status_code == 401
            and response.headers.get("content-type") == "application/problem+json"
            and response.headers.get("www-authenticate") == challenge
        )
        if not ok:
            failures.append(
                f"{kind}: {response.status_code} {response.headers.get('www-authenticate')!r} {response.text[:120]!r}"
            )
    assert not failures, f"{op}:\n" + "\n".join(failures)
