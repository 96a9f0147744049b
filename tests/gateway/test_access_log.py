"""The gateway's structured access log: one line per request naming what was called, and never
a credential, a request body or the author of anonymous feedback (DESIGN §6, issue 5 §4)."""

from __future__ import annotations

import httpx

from tests.logcapture import Capture

BODY = "The new shift pattern leaves no time for lunch (q8zr1)."


async def test_feedback_through_the_gateway_leaves_no_author_or_secret(stack, gateway_client):
    author = stack.headers("A2", "agent", ["T1"])
    token = author["Authorization"].split()[1]
    async with gateway_client() as client:
        with Capture() as logs:
            sent = await client.post(
                "/v1/care/feedback?note=q8zr1",
                json={"scope": "team", "topic": "shifts", "body": BODY},
                headers=author,
            )
            assert sent.status_code == 201, sent.text
            signed_in = await client.post(
                "/v1/auth/token", json={"employee_no": "A2", "password": "not-the-password-77"}
            )
            assert signed_in.status_code == 401

    everything = logs.text.getvalue()
    lines = logs.access()
    feedback = [line for line in lines if line["path"] == "/v1/care/feedback"]
    # the gateway's line and the care service's line, both with the status
    assert {(line["service"], line["status"]) for line in feedback} >= {
        ("gateway", 201),
        ("care", 201),
    }, lines
    for secret in ("A2", token, BODY, "q8zr1", "shifts", "not-the-password-77"):
        assert secret not in everything, secret


async def test_a_crash_behind_the_gateway_shows_no_stack_trace(stack, gateway_client):
    class Broken(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise RuntimeError("database password is hunter2")

    async with gateway_client(wrap=lambda service, inner: Broken()) as client:
        with Capture() as logs:
            response = await client.get("/v1/people/A1", headers=stack.headers("M", "manager"))
    assert response.status_code >= 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "hunter2" in logs.text.getvalue()  # the log keeps what ops need
