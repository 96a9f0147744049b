"""CTI ingest: batches of canonical events, validated whole, then published to ``cti.events``.

The batch contract (``POST /v1/cti/events``):

* The body is a JSON **array** of at most ``cti_max_events`` (1,000) CloudEvents; not JSON is
  400, JSON that is not an array is 422, a longer array is 413 (nothing is read further).
* Every event is checked before anything is published, with the shared models every consumer
  uses: ``specversion``, ``id``, ``type``, ``source`` and ``time`` present (``id`` is the
  idempotency key and ``time`` the event time, so neither is ever defaulted here), ``type`` a
  CTI type (``cti.*``, ``qa.*``), ``data`` valid for that type, ``source`` within the API key's
  source (:func:`services.gateway.apikeys.keys.in_scope`), at most 64 KiB once serialized.
  Any failure is a 422 whose ``errors`` name every bad event: ``{index, field, detail}``
  (``field`` is null when the event as a whole is wrong), and nothing is published.
* A valid batch is published in order, each event keyed by its partition key (the agent id,
  else the call id), and answered 202 ``{"accepted": n}`` once the broker acknowledged all of
  them (see :mod:`services.gateway.cti.publisher` for failures and why a retry is harmless).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from services.gateway.apikeys.keys import in_scope
from services.gateway.cti.adapters import AdapterResult
from services.gateway.cti.publisher import CtiPublisher
from services.gateway.cti.schemas import AdapterReport
from shared.errors import BadRequest, Problem, ValidationFailed
from shared.events import PAYLOADS, CloudEvent, EventType, Topic

REQUIRED = ("specversion", "id", "type", "source", "time")
MAX_EVENT_BYTES = 65_536


class BatchTooLarge(Problem):
    status, type, title = 413, "batch-too-large", "Batch too large"


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The body is not JSON: {exc}.") from None


def parse_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The body is not UTF-8 text: {exc}.") from None


def parse_json_array(body: bytes) -> list[Any]:
    value = parse_json(body)
    if not isinstance(value, list):
        raise ValidationFailed(
            "The body must be a JSON array of CloudEvents.",
            errors=[{"index": None, "field": None, "detail": "expected a JSON array"}],
        )
    return value


def validate_batch(raw_events: list[Any], *, key_source: str, max_events: int) -> list[CloudEvent]:
    """Every event typed, or :class:`ValidationFailed` listing each bad one."""
    if len(raw_events) > max_events:
        raise BatchTooLarge(
            f"A batch holds at most {max_events} events, not {len(raw_events)}; split it.",
            max_events=max_events,
        )
    events: list[CloudEvent] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        event, problems = check_event(raw, key_source)
        if problems:
            errors.extend({"index": index, **p} for p in problems)
        elif event is not None:
            events.append(event)
    if errors:
        bad = len({e["index"] for e in errors})
        raise ValidationFailed(
            f"{bad} of {len(raw_events)} events are invalid; nothing was published.",
            errors=errors,
        )
    return events


def check_event(raw: Any, key_source: str) -> tuple[CloudEvent | None, list[dict[str, Any]]]:
    """``(event, [])`` for a valid event, ``(None, problems)`` otherwise."""
    if not isinstance(raw, dict):
        return None, [_problem(None, "a CloudEvent must be a JSON object")]
    problems = [_problem(name, "Field required") for name in REQUIRED if name not in raw]
    try:
        envelope = CloudEvent.model_validate(raw)
    except ValidationError as exc:
        return None, problems + _problems(exc)
    if problems:
        return None, problems
    try:
        type_ = EventType(envelope.type)
    except ValueError:
        return None, [_problem("type", f"unknown event type {envelope.type!r}")]
    if type_.topic is not Topic.CTI_EVENTS:
        return None, [_problem("type", f"{type_.value} is not a CTI event (cti.*, qa.*)")]
    if not in_scope(key_source, envelope.source):
        return None, [
            _problem(
                "source",
                f"{envelope.source!r} is outside this API key's source {key_source!r} "
                f"(allowed: {key_source!r} or {key_source.rstrip('/')}/…)",
            )
        ]
    try:
        data = PAYLOADS[type_].model_validate(envelope.data)
    except ValidationError as exc:
        return None, _problems(exc, prefix="data")
    event = envelope.model_copy(update={"data": data})
    size = len(event.to_json())
    if size > MAX_EVENT_BYTES:
        return None, [_problem(None, f"{size} bytes serialized; at most {MAX_EVENT_BYTES}")]
    return event, []


def _problem(field: str | None, detail: str) -> dict[str, Any]:
    return {"field": field, "detail": detail}


def _problems(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    found = []
    for err in exc.errors():
        path = ".".join([prefix, *(str(p) for p in err["loc"])] if prefix else map(str, err["loc"]))
        found.append(_problem(path or None, err["msg"]))
    return found


async def publish_adapted(
    publisher: CtiPublisher, result: AdapterResult, *, vendor_format: str
) -> AdapterReport:
    """An adapter's events, published like a batch; a body that is not ``vendor_format`` at
    all (every record malformed) is 422 and publishes nothing."""
    if result.unreadable:
        raise ValidationFailed(
            f"Nothing in the body is {vendor_format}; nothing was published.",
            errors=result.ignored,
        )
    await publisher.publish(result.events)
    return AdapterReport(accepted=len(result.events), **result.summary())
