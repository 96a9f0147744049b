"""Edge protection: rate limits (429 + Retry-After), security headers, CORS, no stack traces."""

from __future__ import annotations

import pytest

from services.gateway.edge import RateLimiter


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    limiter = RateLimiter(rate_per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.take("u") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("u") == pytest.approx(1.0)  # one token a second
    assert limiter.take("other") == 0.0  # buckets are per key
    now[0] = 0.5
    assert limiter.take("u") == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.take("u") == 0.0


def test_the_least_recently_used_keys_are_forgotten_first():
    limiter = RateLimiter(rate_per_minute=60, burst=1, max_keys=2, clock=lambda: 0.0)
    limiter.take("a")
    limiter.take("b")
    limiter.take("a")  # refused, but a is now the most recent
    limiter.take("c")  # evicts b
    assert limiter.take("a") > 0  # a kept its empty bucket
    assert limiter.take("b") == 0.0  # b starts afresh


async def test_each_user_has_a_budget(stack, gateway_client):
    async with gateway_client(rate_limit_user_per_minute=60, rate_limit_user_burst=2) as client:
        manager = stack.headers("M", "manager")
        assert (await client.get("/v1/people/A1", headers=manager)).status_code == 200
        assert (await client.get("/v1/people/A1/overview", headers=manager)).status_code == 200
        refused = await client.get("/v1/people/A1", headers=manager)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"].endswith("/too-many-requests")
        other = await client.get("/v1/people/A1", headers=stack.headers("AD", "admin"))
        assert other.status_code == 200


async def test_guessing_tokens_costs_the_address(stack, gateway_client):
    async with gateway_client(rate_limit_anonymous_burst=2) as client:
        bad = {"Authorization": "Bearer nonsense"}
        assert [
            (await client.get("/v1/care/tasks", headers=bad)).status_code for _ in range(3)
        ] == [
            401,
            401,
            429,
        ]
        sign_in = await client.post("/v1/auth/token", json={"employee_no": "x", "password": "y"})
        assert sign_in.status_code == 429


async def test_security_headers_and_cors(stack, gateway_client):
    origin = "https://app.example.com"
    async with gateway_client(cors_origins=[origin], hsts=True) as client:
        response = await client.get(
            "/v1/people/A1", headers={**stack.headers("M", "manager"), "Origin": origin}
        )
        preflight = await client.options(
            "/v1/people/A1",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        stranger = await client.options(
            "/v1/people/A1",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        docs = await client.get("/docs")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["access-control-allow-origin"] == origin
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert stranger.status_code == 400
    assert "content-security-policy" not in docs.headers  # the docs page loads its scripts


async def test_no_stack_traces_in_responses(stack, gateway_client):
    async with gateway_client() as client:
        response = await client.get(
            "/v1/metrics/agents/A1",
            params={"start": "not-a-time"},
            headers=stack.headers("M", "manager"),
        )
    assert response.status_code == 422
    assert "Traceback" not in response.text and 'File "' not in response.text
