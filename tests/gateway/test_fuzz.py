"""Property-based fuzzing of the gateway's merged OpenAPI document with schemathesis.

Every documented operation gets generated requests — valid ones, invalid ones, and valid ones
aimed at people and teams that exist — as an admin, as an agent and without credentials,
through the real gateway to the real roster, metrics and care apps. None may be answered with
a 5xx, and every 4xx must be a problem+json. Operations secured by an API key (CTI ingest) get
an invalid key: always a 401. The live stream is long-lived: only its refusal is fuzzed.

The stack lives on the test's event loop, while Hypothesis drives its examples synchronously:
each property runs in a worker thread and sends its request back to the loop, so Hypothesis
keeps generating, shrinking and reporting as usual. Examples are bounded and derandomized.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

pytestmark = [
    pytest.mark.slow,
    # schemathesis draws some values with `random` inside its strategies (seeded by Hypothesis)
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

BASE_URL = "http://gateway"
PROBLEM_JSON = "application/problem+json"
KNOWN_IDS = {"person_id": "A1", "agent_id": "A1", "team_id": "T1"}
"""Path parameters pointed at the seeded floor, so requests reach past the lookups."""
LONG_LIVED = ("/v1/stream",)
PUBLIC = {("POST", "/v1/auth/token"), ("GET", "/healthz"), ("GET", "/readyz")}
UNAUTHENTICATED = {401, 404, 405}
INVALID_API_KEY = "cp_not-a-key"
ADMIN_EXAMPLES = 20
AGENT_EXAMPLES = 10
ANONYMOUS_EXAMPLES = 3
NO_LIMITS = {
    "rate_limit_user_per_minute": 1e9,
    "rate_limit_user_burst": 1_000_000,
    "rate_limit_anonymous_per_minute": 1e9,
    "rate_limit_anonymous_burst": 1_000_000,
    "rate_limit_api_key_per_minute": 1e9,
    "rate_limit_api_key_burst": 1_000_000,
}

Check = Callable[[httpx.Response], None]


def httpx_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    """The request a case describes, in httpx's terms (schemathesis serializes for requests)."""
    sent = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    kwargs: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "params": sent.get("params"),
        "headers": {k: str(v) for k, v in sent["headers"].items()},
        "cookies": sent.get("cookies") or None,
    }
    if "json" in sent:
        kwargs["json"] = sent["json"]
    elif isinstance(sent.get("data"), bytes | str):
        kwargs["content"] = sent["data"]
    elif sent.get("data") is not None:
        kwargs["data"] = sent["data"]
    if sent.get("files"):
        kwargs["files"] = sent["files"]
    return kwargs


def describe(response: httpx.Response) -> str:
    request = response.request
    body = request.content[:500].decode(errors="replace")
    answer = f"{response.status_code} {response.text[:500]}"
    return f"{request.method} {request.url} body={body!r} -> {answer}"


def no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, describe(response)
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", "")
        assert content_type.startswith(PROBLEM_JSON), describe(response)


def refused(response: httpx.Response) -> None:
    no_server_error(response)
    assert response.status_code in UNAUTHENTICATED, describe(response)


def unauthorized(response: httpx.Response) -> None:
    no_server_error(response)
    assert response.status_code == 401, describe(response)


Plan = tuple[str, st.SearchStrategy[Any], dict[str, str], Check, int]
"""What to fuzz: a label, the cases, the credentials sent with each, the check, how many."""


@dataclass
class Fuzzer:
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    schema: Any

    def operations(self, *, long_lived: bool = False) -> Iterator[Any]:
        for result in self.schema.get_all_operations():
            operation = result.ok()
            if long_lived or not operation.path.startswith(LONG_LIVED):
                yield operation

    def api_key_header(self, operation: Any) -> str | None:
        """The header of the API key that secures ``operation``, if one does."""
        schemes = self.schema.raw_schema["components"]["securitySchemes"]
        for requirement in operation.definition.raw.get("security", []):
            for name in requirement:
                if schemes[name]["type"] == "apiKey" and schemes[name]["in"] == "header":
                    return schemes[name]["name"]
        return None

    async def send(self, case: Any, headers: dict[str, str]) -> httpx.Response:
        return await self.client.request(**httpx_kwargs(case, headers))

    def run(
        self,
        strategy: st.SearchStrategy[Any],
        headers: dict[str, str],
        check: Check,
        examples: int,
    ) -> None:
        """Runs in a worker thread; each example is sent on the test's event loop."""

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def prop(case: Any) -> None:
            sent = asyncio.run_coroutine_threadsafe(self.send(case, headers), self.loop)
            check(sent.result(timeout=30))

        prop()

    async def fuzz(self, plans: list[Plan]) -> None:
        """Runs every plan, then fails once listing each operation that broke."""
        failures = []
        for label, strategy, headers, check, examples in plans:
            try:
                await asyncio.to_thread(self.run, strategy, headers, check, examples)
            except Unsatisfiable:
                pass  # nothing to generate (an invalid request for an operation without inputs)
            except Exception as exc:
                failures.append(f"{label}: {exc}")
        assert not failures, "\n\n".join(failures)


@pytest.fixture
async def fuzzer(stack, gateway_client):
    async with gateway_client(**NO_LIMITS) as client:
        document = (await client.get("/openapi.json")).json()
        yield Fuzzer(client, asyncio.get_running_loop(), schemathesis.openapi.from_dict(document))


def label(operation: Any, what: str) -> str:
    return f"{operation.method.upper()} {operation.path} [{what}]"


def authenticated_plans(
    fuzzer: Fuzzer, headers: dict[str, str], examples: int, modes: list[GenerationMode]
) -> list[Plan]:
    plans: list[Plan] = []
    for operation in fuzzer.operations():
        key_header = fuzzer.api_key_header(operation)
        if key_header is not None:
            with_key = {**headers, key_header: INVALID_API_KEY}
            strategy = operation.as_strategy()
            plans.append((label(operation, "bad key"), strategy, with_key, unauthorized, examples))
            continue
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode)
            plans.append(
                (label(operation, mode.value), strategy, headers, no_server_error, examples)
            )
        known = {
            p.name: KNOWN_IDS[p.name] for p in operation.path_parameters if p.name in KNOWN_IDS
        }
        if known:
            strategy = operation.as_strategy(path_parameters=known)
            plans.append((label(operation, "seeded"), strategy, headers, no_server_error, examples))
    return plans


async def test_no_generated_request_gets_a_server_error_as_an_admin(stack, fuzzer):
    headers = stack.headers("AD", "admin")
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    await fuzzer.fuzz(authenticated_plans(fuzzer, headers, ADMIN_EXAMPLES, modes))


async def test_no_generated_request_gets_a_server_error_as_an_agent(stack, fuzzer):
    headers = stack.headers("A1", "agent", ["T1"])
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    await fuzzer.fuzz(authenticated_plans(fuzzer, headers, AGENT_EXAMPLES, modes))


async def test_without_credentials_every_closed_operation_is_refused(fuzzer):
    plans: list[Plan] = []
    for operation in fuzzer.operations(long_lived=True):
        public = (operation.method.upper(), operation.path) in PUBLIC
        check = no_server_error if public else refused
        if fuzzer.api_key_header(operation) is not None:
            check = unauthorized
        strategy = operation.as_strategy()
        plans.append((label(operation, "anonymous"), strategy, {}, check, ANONYMOUS_EXAMPLES))
    await fuzzer.fuzz(plans)
