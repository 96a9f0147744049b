"""The gateway's structured access log: one line per request naming what was called, and never
a credential, a request body or the author of anonymous feedback (DESIGN §6, issue 5 §4)."""

from __future__ import annotations

import io
import logging

import httpx
import structlog

BODY = "The new shift pattern leaves no time for lunch (q8zr1)."


class Capture(logging.Handler):
    """Every log record while active, debug included, and each line as the app renders it.

    Attached once the gateway exists: creating an app configures logging afresh."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        [app_handler] = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
        ]
        self.setFormatter(app_handler.formatter)
        self.records: list[logging.LogRecord] = []
        self.text = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.text.write(self.format(record) + "\n")

    def __enter__(self) -> Capture:
        root = logging.getLogger()
        self.previous_level = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.previous_level)

    def access(self) -> list[dict]:
        return [r.msg for r in self.records if r.name == "access" and isinstance(r.msg, dict)]


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
