"""API keys through the real gateway: admins alone manage them, a key is shown once and stored
hashed, a key ingests (within its source) and does nothing else, revocation is immediate here
and within the cache's TTL on other replicas, each key has its own rate limit."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest

from services.gateway.apikeys.keys import in_scope

KEYS = "/v1/cti/api-keys"
EVENTS = "/v1/cti/events"


async def create_key(
    client: httpx.AsyncClient, stack: Any, source: str = "cti/asterisk-1", name: str = "PBX 1"
) -> dict[str, Any]:
    response = await client.post(
        KEYS, json={"name": name, "source": source}, headers=stack.headers("AD", "admin")
    )
    assert response.status_code == 201, response.text
    return response.json()


def key_header(created: dict[str, Any]) -> dict[str, str]:
    return {"X-API-Key": created["key"]}


async def test_a_key_is_shown_once_listed_without_secrets_and_revoked_idempotently(
    stack, gateway_client
) -> None:
    admin = stack.headers("AD", "admin")
    async with gateway_client() as client:
        created = await create_key(client, stack)
        other = await create_key(client, stack, source="cti/connect-1", name="Connect")
        listed = await client.get(KEYS, headers=admin)
        first_page = await client.get(KEYS, params={"limit": 1}, headers=admin)
        second_page = await client.get(
            KEYS, params={"limit": 1, "cursor": first_page.json()["next_cursor"]}, headers=admin
        )
        accepted = await client.post(EVENTS, json=[], headers=key_header(created))
        revoked = await client.post(f"{KEYS}/{created['id']}/revoke", headers=admin)
        again = await client.post(f"{KEYS}/{created['id']}/revoke", headers=admin)
        refused = await client.post(EVENTS, json=[], headers=key_header(created))
        still_fine = await client.post(EVENTS, json=[], headers=key_header(other))
        only_revoked = await client.get(KEYS, params={"revoked": "true"}, headers=admin)
        missing = await client.post(
            f"{KEYS}/0190a000-0000-7000-8000-000000000000/revoke", headers=admin
        )

    key = created["key"]
    assert key.startswith("cpk_") and len(key) == 4 + 43  # 256 random bits, base64url
    assert created["prefix"] == key[:12] and created["source"] == "cti/asterisk-1"
    assert created["created_by"] == "AD" and created["revoked_at"] is None
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items[:2]] == [other["id"], created["id"]]  # newest first
    assert all(set(i) == set(created) - {"key"} for i in items)
    digest = hashlib.sha256(key.encode()).hexdigest()
    for response in (listed, first_page, second_page, revoked, only_revoked):
        assert key not in response.text and key[12:] not in response.text
        assert digest not in response.text
    assert [i["id"] for i in first_page.json()["items"] + second_page.json()["items"]] == [
        other["id"],
        created["id"],
    ]
    assert accepted.status_code == 202 and accepted.json() == {"accepted": 0}
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "AD"
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert still_fine.status_code == 202
    assert [i["id"] for i in only_revoked.json()["items"]] == [created["id"]]
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("who", "role"),
    [("M", "manager"), ("L1", "team_lead"), ("A1", "agent"), ("OP", "ops"), ("QA", "qa")],
)
async def test_only_admins_manage_keys(stack, gateway_client, who: str, role: str) -> None:
    headers = stack.headers(who, role, ["T1"] if role == "team_lead" else [])
    async with gateway_client() as client:
        created = await create_key(client, stack)
        responses = [
            await client.post(KEYS, json={"name": "x", "source": "cti/x"}, headers=headers),
            await client.get(KEYS, headers=headers),
            await client.post(f"{KEYS}/{created['id']}/revoke", headers=headers),
            await client.post(f"{KEYS}/no-such-key/revoke", headers=headers),
        ]
        anonymous = await client.get(KEYS)
        after = await client.post(EVENTS, json=[], headers=key_header(created))
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses)
    assert anonymous.status_code == 401
    assert after.status_code == 202  # the refused revocation changed nothing


async def test_a_key_can_do_nothing_but_ingest(stack, gateway_client) -> None:
    admin = stack.headers("AD", "admin")
    async with gateway_client() as client:
        created = await create_key(client, stack)
        key = key_header(created)
        attempts = {
            "people": await client.get("/v1/people", headers=key),
            "people with an admin token too": await client.get(
                "/v1/people", headers={**key, **admin}
            ),
            "overview": await client.get("/v1/people/A1/overview", headers=key),
            "key list": await client.get(KEYS, headers={**key, **admin}),
            "new key": await client.post(
                KEYS, json={"name": "x", "source": "cti/x"}, headers={**key, **admin}
            ),
            "revoke itself": await client.post(f"{KEYS}/{created['id']}/revoke", headers=key),
            "sign-in": await client.post(
                "/v1/auth/token", json={"employee_no": "E-AD", "password": "x"}, headers=key
            ),
            "metrics": await client.get("/v1/realtime/agents", headers={**key, **admin}),
        }
        after = await client.get(KEYS, headers=admin)
    for what, response in attempts.items():
        assert response.status_code == 401, what
        assert response.headers["content-type"] == "application/problem+json", what
        assert response.headers["x-content-type-options"] == "nosniff", what
    assert len(after.json()["items"]) == 1  # the "new key" attempt created nothing


async def test_bearer_tokens_do_not_ingest_and_unknown_keys_are_refused(
    stack, gateway_client
) -> None:
    async with gateway_client() as client:
        as_admin = await client.post(EVENTS, json=[], headers=stack.headers("AD", "admin"))
        nothing = await client.post(EVENTS, json=[])
        unknown = await client.post(EVENTS, json=[], headers={"X-API-Key": "cpk_" + "A" * 43})
    for response in (as_admin, nothing, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert "X-API-Key" in as_admin.json()["detail"]


async def test_each_key_has_its_own_rate_limit(stack, gateway_client) -> None:
    async with gateway_client(
        rate_limit_api_key_per_minute=30, rate_limit_api_key_burst=2
    ) as client:
        busy, calm = (
            key_header(await create_key(client, stack)),
            key_header(await create_key(client, stack, source="cti/asterisk-2")),
        )
        statuses = [
            (await client.post(EVENTS, json=[], headers=busy)).status_code for _ in range(2)
        ]
        limited = await client.post(EVENTS, json=[], headers=busy)
        other = await client.post(EVENTS, json=[], headers=calm)
    assert statuses == [202, 202]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 2
    assert limited.headers["content-type"] == "application/problem+json"
    assert other.status_code == 202


async def test_last_use_is_recorded_at_most_once_a_minute(stack, gateway_client) -> None:
    admin = stack.headers("AD", "admin")
    async with gateway_client() as client:
        created = await create_key(client, stack)
        await client.post(EVENTS, json=[], headers=key_header(created))
        first = (await client.get(KEYS, headers=admin)).json()["items"][0]["last_used_at"]
        await asyncio.sleep(0.01)
        await client.post(EVENTS, json=[], headers=key_header(created))
        second = (await client.get(KEYS, headers=admin)).json()["items"][0]["last_used_at"]
    assert created["last_used_at"] is None
    assert first is not None and second == first


async def test_a_revocation_reaches_other_replicas_within_the_cache_ttl(
    stack, gateway_client
) -> None:
    admin = stack.headers("AD", "admin")
    async with (
        gateway_client(api_key_cache_ttl_s=0.5) as replica_a,
        gateway_client(api_key_cache_ttl_s=0.5) as replica_b,
    ):
        created = await create_key(replica_a, stack)
        key = key_header(created)
        assert (await replica_b.post(EVENTS, json=[], headers=key)).status_code == 202
        assert (await replica_a.post(f"{KEYS}/{created['id']}/revoke", headers=admin)).is_success
        on_a = await replica_a.post(EVENTS, json=[], headers=key)
        await asyncio.sleep(0.6)
        on_b = await replica_b.post(EVENTS, json=[], headers=key)
    assert on_a.status_code == 401  # immediately on the replica that revoked it
    assert on_b.status_code == 401


async def test_key_creation_is_validated(stack, gateway_client) -> None:
    admin = stack.headers("AD", "admin")
    async with gateway_client() as client:
        bad = [
            await client.post(KEYS, json={"name": "x", "source": "has space"}, headers=admin),
            await client.post(KEYS, json={"name": "x", "source": "cti/"}, headers=admin),
            await client.post(KEYS, json={"name": "", "source": "cti/x"}, headers=admin),
            await client.post(KEYS, json={"name": "x\u0000", "source": "cti/x"}, headers=admin),
            await client.post(KEYS, json={"source": "cti/x"}, headers=admin),
        ]
    assert [r.status_code for r in bad] == [422] * 5


def test_scope_is_the_source_or_a_path_under_it() -> None:
    assert in_scope("cti/asterisk-1", "cti/asterisk-1")
    assert in_scope("cti/asterisk-1", "cti/asterisk-1/queue-7")
    assert not in_scope("cti/asterisk-1", "cti/asterisk-10")
    assert not in_scope("cti/asterisk-1", "cti")
    assert not in_scope("cti/asterisk-1", "cti/asterisk-2")
