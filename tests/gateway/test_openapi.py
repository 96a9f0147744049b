"""One OpenAPI document describes the whole public API."""

from __future__ import annotations

from typing import Any

from services.care.app import create_app as care
from services.gateway.openapi import merge
from services.metrics.app import create_app as metrics
from services.roster.app import create_app as roster


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


async def test_the_gateway_document_covers_every_public_path(stack, gateway_client):
    async with gateway_client() as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = document["paths"]
    for factory in (roster, metrics, care):
        for path, item in factory().openapi()["paths"].items():
            if path in ("/healthz", "/readyz"):
                continue
            assert path in paths, path
            assert set(item) <= set(paths[path]), path  # every method
    for own in ("/v1/people/{person_id}/overview", "/v1/teams/{team_id}/dashboard"):
        assert paths[own]["get"]["security"] == [{"HTTPBearer": []}], own
    schemas = document["components"]["schemas"]
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    # errors are described too (validation problems at least)
    assert "422" in paths["/v1/care/records"]["post"]["responses"]


def test_clashing_schema_names_are_prefixed_by_service():
    own = {"paths": {}, "components": {"schemas": {"Page": {"type": "object", "title": "own"}}}}
    service = {
        "paths": {
            "/v1/care/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            }
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"Page": {"type": "object", "title": "care's"}}},
    }
    merged = merge(own, {"care": service})
    assert merged["components"]["schemas"]["CarePage"]["title"] == "care's"
    assert merged["components"]["schemas"]["Page"]["title"] == "own"
    schema = merged["paths"]["/v1/care/x"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert schema["$ref"] == "#/components/schemas/CarePage"
