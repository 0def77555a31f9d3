"""Production tokens: RS256 and ES256 verified through a JWKS URL (served locally here)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from servicekit.auth import TokenVerifier
from servicekit.errors import Unauthorized
from servicekit.settings import ServiceSettings

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    keys = [
        {**json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())), "kid": "rsa-1", "alg": "RS256", "use": "sig"},
        {**json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())), "kid": "ec-1", "alg": "ES256", "use": "sig"},
    ]
    body = json.dumps({"keys": keys}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(uuid.uuid4()),
        "iss": "https://idp.example",
        "aud": "journey",
        "iat": now,
        "exp": now + 60,
        **extra,
    }


def _settings(jwks_url: str, algorithm: str) -> ServiceSettings:
    return ServiceSettings(
        environment="production", jwt_algorithm=algorithm, jwks_url=jwks_url, jwt_issuer="https://idp.example"
    )


@pytest.mark.parametrize(("algorithm", "key", "kid"), [("RS256", RSA_KEY, "rsa-1"), ("ES256", EC_KEY, "ec-1")])
def test_tokens_signed_by_the_provider_are_accepted(jwks_url: str, algorithm: str, key: Any, kid: str) -> None:
    claims = _claims(roles=["admin"])
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})
    principal = TokenVerifier(_settings(jwks_url, algorithm)).verify(token)
    assert str(principal.user_id) == claims["sub"]
    assert principal.is_admin


def test_the_algorithm_is_pinned(jwks_url: str) -> None:
    # An ES256 token is refused by a service pinned to RS256, even with a key from the same JWKS.
    token = jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    with pytest.raises(Unauthorized):
        TokenVerifier(_settings(jwks_url, "RS256")).verify(token)


def test_a_key_not_in_the_jwks_is_refused(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthorized):
        TokenVerifier(_settings(jwks_url, "RS256")).verify(token)


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="JWKS_URL"):
        ServiceSettings(environment="production")
