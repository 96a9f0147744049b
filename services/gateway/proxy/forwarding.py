"""One request forwarded to a service and its answer passed back."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response

from services.gateway.upstreams import Upstreams
from shared.errors import Problem

REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "accept-language",
    "if-none-match",
    "if-match",
    "user-agent",
)
RESPONSE_HEADERS = (
    "content-type",
    "retry-after",
    "location",
    "etag",
    "cache-control",
    "www-authenticate",
    "content-language",
)


class PayloadTooLarge(Problem):
    status, type, title = 413, "payload-too-large", "Payload too large"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.", limit=limit)
    return bytes(body)


async def forward(request: Request, service: str, path: str) -> Response:
    """``path`` is the decoded request path; it is percent-encoded again on the way out (a
    control character or space in an id is the service's 404 to give, not an invalid URL)."""
    upstreams: Upstreams = request.app.state.upstreams
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    headers["x-request-id"] = request.state.request_id
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    upstream = await upstreams.request(
        service,
        upstreams.build(
            service,
            request.method,
            quote(path),
            params=request.query_params.multi_items(),
            headers=headers,
            content=body or None,
        ),
    )
    return Response(
        content=upstream.content,
        status_code=upstream.status_code,
        headers={n: upstream.headers[n] for n in RESPONSE_HEADERS if n in upstream.headers},
    )
