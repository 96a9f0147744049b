"""Bearer-token verification: HS256 with the shared secret and RS256 against a real JWKS URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.roster.settings import RosterSettings
from shared.auth import Role, TokenVerifier, issue_token
from shared.errors import Unauthorized


@pytest.fixture
def settings() -> RosterSettings:
    return RosterSettings(jwt_secret="unit-test-secret-0123456789abcdef", environment="test")


async def test_issued_token_verifies_to_the_principal(settings: RosterSettings) -> None:
    token, ttl = issue_token(settings, subject="p1", role="team_lead", team_ids=["t2", "t1"])
    principal = await TokenVerifier(settings).verify(token)
    assert (principal.id, principal.role, principal.team_ids) == (
        "p1",
        Role.TEAM_LEAD,
        frozenset({"t1", "t2"}),
    )
    assert ttl == settings.access_token_ttl_s


def _encode(claims: dict, secret: str = "unit-test-secret-0123456789abcdef") -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "token_claims",
    [
        {"sub": "p", "role": "agent", "exp": int(time.time()) - 10, "iss": "callpulse"},
        {"sub": "p", "role": "wizard", "exp": int(time.time()) + 60, "iss": "callpulse"},
        {"sub": "p", "exp": int(time.time()) + 60, "iss": "callpulse"},
        {"role": "agent", "exp": int(time.time()) + 60, "iss": "callpulse"},
        {"sub": "p", "role": "agent", "iss": "callpulse"},
        {"sub": "p", "role": "agent", "exp": int(time.time()) + 60, "iss": "someone-else"},
        {
            "sub": "p",
            "role": "agent",
            "team_ids": "t1",
            "exp": int(time.time()) + 60,
            "iss": "callpulse",
        },
    ],
    ids=["expired", "unknown-role", "no-role", "no-sub", "no-exp", "wrong-issuer", "bad-teams"],
)
async def test_invalid_claims_are_unauthorized(settings: RosterSettings, token_claims) -> None:
    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(_encode(token_claims))


async def test_wrong_secret_and_alg_none_are_unauthorized(settings: RosterSettings) -> None:
    claims = {"sub": "p", "role": "admin", "exp": int(time.time()) + 60, "iss": "callpulse"}
    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(
            _encode(claims, secret="guessed-secret-0000000000000000000000")
        )
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(unsigned)


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    finally:
        server.shutdown()


async def test_rs256_tokens_verify_against_the_jwks(jwks_server) -> None:
    url, key = jwks_server
    settings = RosterSettings(jwt_algorithm="RS256", jwks_url=url, environment="test")
    claims = {"sub": "ext-1", "role": "manager", "team_ids": [], "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    principal = await TokenVerifier(settings).verify(token)
    assert principal.role is Role.MANAGER and principal.id == "ext-1"

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(forged)
