"""One OpenAPI document for the whole public API: the gateway's own paths merged with every
public path of roster, metrics and care.

The services' documents are generated in-process from their code (the gateway ships in the
same image), so the merged document is complete even while a service is down. Schema names
that two services use for different shapes are prefixed with the service's name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.gateway.upstreams import owner_of

INTERNAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
REF_PREFIX = "#/components/schemas/"


def service_documents() -> dict[str, dict[str, Any]]:
    from services.care.app import create_app as care
    from services.metrics.app import create_app as metrics
    from services.roster.app import create_app as roster

    return {
        name: factory().openapi()
        for name, factory in (("roster", roster), ("metrics", metrics), ("care", care))
    }


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                REF_PREFIX + renames.get(value[len(REF_PREFIX) :], value[len(REF_PREFIX) :])
                if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX)
                else _rename_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def merge(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(own)
    paths = merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for service, document in services.items():
        theirs = document.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service.capitalize()}{name}"
            for name, schema in theirs.items()
            if name in schemas and schemas[name] != _rename_refs(schema, {})
        }
        for name, schema in theirs.items():
            schemas[renames.get(name, name)] = _rename_refs(schema, renames)
        security = document.get("components", {}).get("securitySchemes", {})
        merged["components"].setdefault("securitySchemes", {}).update(security)
        for path, item in document.get("paths", {}).items():
            if path in INTERNAL_PATHS or owner_of(path) != service or path in paths:
                continue
            paths[path] = _rename_refs(item, renames)
        for tag in document.get("tags", []):
            merged.setdefault("tags", [])
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
    merged["paths"] = dict(sorted(paths.items()))
    return merged


def install(
    app: FastAPI, documents: Callable[[], dict[str, dict[str, Any]]] = service_documents
) -> None:
    """Replace ``app.openapi`` (served at ``/openapi.json`` and by ``/docs``) with the merge."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            own = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = merge(own, documents())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
