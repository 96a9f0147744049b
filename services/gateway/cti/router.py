"""CTI ingest: canonical batches and the vendor adapters, for API keys only (``X-API-Key``).

Every endpoint answers 202 only once the broker acknowledged every event, 503 when it cannot
(nothing to undo: ids are stable, consumers apply each id once), 401 without an active key,
429 past the key's rate limit. The adapters' events carry the key's source, and their agents
are resolved through the roster's external CTI ids (``system`` ``amazon-connect`` or
``asterisk``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.gateway.apikeys import service as apikeys_service
from services.gateway.apikeys.auth import IngestKeyDep
from services.gateway.cti import ingest
from services.gateway.cti.adapters import (
    InvalidPayload,
    adapt_agent_events,
    adapt_queue_log,
    amazon_connect,
    asterisk_queue_log,
)
from services.gateway.cti.schemas import Accepted, AdapterReport, CloudEventIn
from services.gateway.proxy.forwarding import read_body
from shared.app import SessionDep
from shared.errors import ValidationFailed

router = APIRouter(prefix="/v1/cti", tags=["cti: ingest"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {}}}
    for status, text in (
        (400, "The body is not JSON (or not UTF-8 text)"),
        (401, "No active API key"),
        (413, "The body or the batch is too large"),
        (422, "Invalid input, listed: nothing was published"),
        (429, "The key's rate limit; see Retry-After"),
        (503, "The broker did not acknowledge: take nothing as accepted, send again"),
    )
}


def _body(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


EVENTS_BODY = _body(
    "application/json",
    {"type": "array", "maxItems": 1000, "items": CloudEventIn.model_json_schema()},
)
AMAZON_CONNECT_BODY = _body(
    "application/json",
    {
        "description": "One record, an array of records, or a Kinesis/Firehose batch",
        "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
    },
)
QUEUE_LOG_BODY = _body(
    "text/plain", {"type": "string", "description": "queue_log lines, one event per line"}
)


@router.post(
    "/events",
    status_code=202,
    summary="Ingest a batch of canonical CloudEvents (all or nothing)",
    description=ingest.__doc__,
    responses=PROBLEMS,
    openapi_extra=EVENTS_BODY,
)
async def ingest_events(request: Request, key: IngestKeyDep, session: SessionDep) -> Accepted:
    settings = request.app.state.settings
    body = await read_body(request, settings.cti_max_body_bytes)
    events = ingest.validate_batch(
        ingest.parse_json_array(body), key_source=key.source, max_events=settings.cti_max_events
    )
    await request.app.state.cti_publisher.publish(events)
    await apikeys_service.record_use(session, request.app.state.api_keys, key.id)
    return Accepted(accepted=len(events))


@router.post(
    "/amazon-connect/agent-events",
    status_code=202,
    summary="Ingest Amazon Connect agent event stream records",
    description=amazon_connect.__doc__,
    responses=PROBLEMS,
    response_model_exclude_none=True,
    openapi_extra=AMAZON_CONNECT_BODY,
)
async def ingest_amazon_connect(
    request: Request, key: IngestKeyDep, session: SessionDep
) -> AdapterReport:
    body = await read_body(request, request.app.state.settings.cti_max_body_bytes)
    payload = ingest.parse_json(body)
    try:
        result = adapt_agent_events(
            payload, source=key.source, resolve=request.app.state.cti_identities.resolve
        )
    except InvalidPayload as exc:
        raise ValidationFailed(f"{exc}; nothing was published.", errors=[]) from None
    report = await ingest.publish_adapted(
        request.app.state.cti_publisher, result, vendor_format="an Amazon Connect agent event"
    )
    await apikeys_service.record_use(session, request.app.state.api_keys, key.id)
    return report


@router.post(
    "/asterisk/queue-log",
    status_code=202,
    summary="Ingest Asterisk queue_log lines (text/plain)",
    description=asterisk_queue_log.__doc__,
    responses=PROBLEMS,
    response_model_exclude_none=True,
    openapi_extra=QUEUE_LOG_BODY,
)
async def ingest_queue_log(
    request: Request, key: IngestKeyDep, session: SessionDep
) -> AdapterReport:
    body = await read_body(request, request.app.state.settings.cti_max_body_bytes)
    result = adapt_queue_log(
        ingest.parse_text(body),
        source=key.source,
        resolve=request.app.state.cti_identities.resolve,
    )
    report = await ingest.publish_adapted(
        request.app.state.cti_publisher, result, vendor_format="an Asterisk queue_log line"
    )
    await apikeys_service.record_use(session, request.app.state.api_keys, key.id)
    return report
