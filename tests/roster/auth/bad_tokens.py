"""Credentials every protected endpoint must refuse with 401."""

from __future__ import annotations

import time

import jwt

from services.roster.settings import RosterSettings


def bad_auth_headers(settings: RosterSettings) -> dict[str, dict[str, str]]:
    now = int(time.time())
    claims = {"sub": "someone", "role": "admin", "team_ids": [], "iss": settings.jwt_issuer}
    secret = settings.jwt_secret.get_secret_value()

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "missing": {},
        "not_bearer": {"Authorization": "Basic YWRtaW46Y2FsbHB1bHNlLWFkbWlu"},
        "malformed": bearer("not-a-jwt"),
        "expired": bearer(
            jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256")
        ),
        "foreign_signature": bearer(
            jwt.encode(
                {**claims, "exp": now + 3600}, "x" * 32 + "-not-our-secret", algorithm="HS256"
            )
        ),
        "unknown_role": bearer(
            jwt.encode(
                {**claims, "role": "superuser", "exp": now + 3600}, secret, algorithm="HS256"
            )
        ),
    }


BAD_AUTH_KINDS = (
    "missing",
    "not_bearer",
    "malformed",
    "expired",
    "foreign_signature",
    "unknown_role",
)
