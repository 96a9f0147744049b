"""The HTTP conventions every service shares: problem+json, request ids, health, metrics, 401s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.roster.settings import RosterSettings
from shared.app import ServiceSpec, create_service_app
from shared.auth import CurrentUser, TokenVerifier, issue_token
from shared.errors import RuleViolation

router = APIRouter(prefix="/v1")


class Body(BaseModel):
    name: str = Field(min_length=1)
    level: int = Field(ge=1, le=5)


@router.post("/things")
async def create_thing(body: Body, user: CurrentUser) -> dict:
    if body.name == "forbidden":
        raise RuleViolation("no_forbidden_names", "That name is not allowed.")
    return {"name": body.name, "by": user.id}


@router.get("/boom")
async def boom() -> dict:
    raise RuntimeError("secret internals /etc/passwd")


@pytest.fixture
def settings() -> RosterSettings:
    return RosterSettings(environment="test", log_json=False)


@pytest.fixture
async def client(settings: RosterSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(ServiceSpec(name="probe", settings=settings, routers=[router]))
    app.state.token_verifier = TokenVerifier(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        yield c


@pytest.fixture
def auth(settings: RosterSettings) -> dict[str, str]:
    token, _ = issue_token(settings, subject="p1", role="agent", team_ids=[])
    return {"Authorization": f"Bearer {token}"}


async def test_missing_and_bad_tokens_are_401_problems(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = await client.post("/v1/things", json={"name": "a", "level": 1}, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"].endswith("/unauthorized")


async def test_validation_errors_name_each_field(client: httpx.AsyncClient, auth) -> None:
    response = await client.post("/v1/things", json={"name": "", "level": 9}, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert {e["field"] for e in body["errors"]} == {"body.name", "body.level"}


async def test_rule_violations_name_the_rule(client: httpx.AsyncClient, auth) -> None:
    response = await client.post("/v1/things", json={"name": "forbidden", "level": 2}, headers=auth)
    assert response.status_code == 422
    assert response.json()["rule"] == "no_forbidden_names"


async def test_unexpected_errors_hide_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "passwd" not in response.text and "Traceback" not in response.text


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/nowhere")).json()["status"] == 404
    response = await client.delete("/v1/things")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_request_id_is_propagated_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] not in ("", "bad id with spaces")


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, auth) -> None:
    await client.post("/v1/things", json={"name": "a", "level": 1}, headers=auth)
    text = (await client.get("/metrics")).text
    assert 'callpulse_http_requests_total{method="POST",route="/v1/things",service="probe"' in text
