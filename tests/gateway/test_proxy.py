"""The door: every public path forwarded, tokens checked at the door, failing services named."""

from __future__ import annotations

import httpx


async def test_forwards_each_services_paths_with_the_callers_token(stack, gateway_client):
    manager = stack.headers("M", "manager")
    async with gateway_client() as client:
        person = await client.get("/v1/people/A1", headers=manager)
        assert person.status_code == 200, person.text
        assert person.json()["team_id"] == "T1"
        assert "x-request-id" in person.headers
        care = await client.get("/v1/care/balance", params={"team_id": "T1"}, headers=manager)
        assert care.status_code == 200 and care.json()["summary"]["agents"] == 4
        metrics = await client.get("/v1/realtime/agents", headers=manager)
        assert metrics.status_code == 200 and isinstance(metrics.json(), list)
        # the services still apply their own object-level rules
        other = await client.get("/v1/people/A1", headers=stack.headers("B1", "agent", ["T2"]))
        assert other.status_code == 404
        assert other.headers["content-type"].startswith("application/problem+json")


async def test_tokens_are_checked_at_the_door(stack, gateway_client):
    async with gateway_client() as client:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic x"}):
            refused = await client.get("/v1/care/tasks", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
        # signing in is the one open path: the roster answers (wrong credentials)
        login = await client.post(
            "/v1/auth/token", json={"employee_no": "E-A1", "password": "wrong-password"}
        )
        assert login.status_code == 401
        assert "bearer token" not in login.json()["detail"]  # the roster's answer, not the door's


async def test_unknown_paths_are_404(stack, gateway_client):
    async with gateway_client() as client:
        response = await client.get("/v1/nothing-here", headers=stack.headers("M", "manager"))
        assert response.status_code == 404
        assert response.json()["type"].endswith("/not-found")


class Down(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise httpx.ConnectError("connection refused", request=request)


async def test_an_unreachable_service_is_a_503_naming_it_and_reads_are_retried(
    stack, gateway_client
):
    down = Down()
    manager = stack.headers("M", "manager")
    async with gateway_client(lambda s, t: down if s == "care" else t) as client:
        read = await client.get("/v1/care/tasks", headers=manager)
        assert read.status_code == 503
        problem = read.json()
        assert problem["service"] == "care" and "care" in problem["detail"]
        assert down.calls == 1 + stack.settings["gateway"].upstream_read_retries
        down.calls = 0
        write = await client.post("/v1/care/care-breaks", json={"agent_id": "A1"}, headers=manager)
        assert write.status_code == 503 and down.calls == 1  # writes are never retried
        # the other services are unaffected
        assert (await client.get("/v1/people/A1", headers=manager)).status_code == 200


async def test_bodies_past_the_limit_are_refused(stack, gateway_client):
    async with gateway_client(max_body_bytes=1000) as client:
        response = await client.post(
            "/v1/care/records",
            content=b"{" + b" " * 2000 + b"}",
            headers={**stack.headers("M", "manager"), "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_ids_with_any_characters_are_forwarded_encoded(stack, gateway_client):
    """Found by fuzzing: a control character in a path id made an invalid upstream URL (500)."""
    manager = stack.headers("M", "manager")
    async with gateway_client() as client:
        for path in ("/v1/people/%1F", "/v1/teams/a%20b", "/v1/care/tasks/%25%00", "/v1/people/é"):
            response = await client.get(path, headers=manager)
            assert response.status_code in (404, 422), (path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
