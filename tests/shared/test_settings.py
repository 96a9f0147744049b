"""Per-service prefixes with shared fallbacks, and refusal of placeholder secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.roster.settings import RosterSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "ROSTER_DATABASE_URL",
        "PORT",
        "ROSTER_PORT",
        "ENVIRONMENT",
        "JWT_SECRET",
        "KAFKA_BOOTSTRAP_SERVERS",
        "JWT_ALGORITHM",
        "JWKS_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_prefixed_variable_wins_over_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shared/db")
    assert RosterSettings().database_url == "postgresql://shared/db"
    monkeypatch.setenv("ROSTER_DATABASE_URL", "postgresql://own/roster")
    assert RosterSettings().database_url == "postgresql://own/roster"


def test_service_specific_fields_do_not_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9999")
    assert RosterSettings().port == 8001
    monkeypatch.setenv("ROSTER_PORT", "9001")
    assert RosterSettings().port == 9001


def test_sqlalchemy_url_always_uses_asyncpg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/x")
    assert RosterSettings().sqlalchemy_url == "postgresql+asyncpg://u@h:5432/x"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        RosterSettings()
    monkeypatch.setenv("JWT_SECRET", "a-real-secret-from-the-vault-0123456789")
    assert RosterSettings().environment == "production"


def test_short_hs256_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "too-short")
    with pytest.raises(ValidationError, match="32 characters"):
        RosterSettings()


def test_rs256_needs_a_jwks_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    with pytest.raises(ValidationError, match="JWKS_URL"):
        RosterSettings()
