"""The services behind the gateway, and one pooled HTTP client per service.

Clients are created in the app lifespan. Idempotent reads are retried when a service cannot
be reached; anything else fails fast with a 503 problem naming the service, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from httpx_aiohttp import AiohttpTransport

from services.gateway.settings import GatewaySettings
from shared.errors import ServiceUnavailable

SERVICES = ("roster", "metrics", "care")

ROUTES: tuple[tuple[str, str], ...] = (
    ("/v1/auth/", "roster"),
    ("/v1/people", "roster"),
    ("/v1/teams", "roster"),
    ("/v1/mentorships", "roster"),
    ("/v1/schedules", "roster"),
    ("/v1/leave-requests", "roster"),
    ("/v1/metrics/", "metrics"),
    ("/v1/realtime/", "metrics"),
    ("/v1/care/", "care"),
)
"""Public path prefixes and the service that owns them."""

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
UNREACHABLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)


def owner_of(path: str) -> str | None:
    for prefix, service in ROUTES:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return service
    return None


@dataclass
class Upstreams:
    clients: Mapping[str, httpx.AsyncClient]
    read_retries: int
    _abandoned: set[asyncio.Task[httpx.Response]] = field(default_factory=set, init=False)

    async def request(self, service: str, request: httpx.Request) -> httpx.Response:
        """Send to ``service``; reads are retried on connection failures, timeouts are not
        retried for writes. Raises :class:`ServiceUnavailable` naming the service."""
        client = self.clients[service]
        attempts = 1 + (self.read_retries if request.method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                return await client.send(request)
            except UNREACHABLE as exc:
                retryable = request.method in IDEMPOTENT and attempt + 1 < attempts
                if not retryable:
                    raise ServiceUnavailable(
                        f"The {service} service is unavailable ({type(exc).__name__}).",
                        service=service,
                    ) from None
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def get_within(
        self, timeout_s: float, service: str, path: str, *, headers: Mapping[str, str], params=None
    ) -> httpx.Response:  # type: ignore[no-untyped-def]
        """:meth:`get_json`, waited for ``timeout_s`` at most (then :class:`TimeoutError`).

        A request given up on is not cancelled: it finishes in the background, bounded by the
        client's own timeouts, and hands its connection back to the pool. Cancelling requests in
        flight permanently leaks slots of httpx's own connection pool under contention
        (encode/httpcore#1093): after an overload every later request would wait for the pool.
        """
        request = asyncio.ensure_future(
            self.get_json(service, path, headers=headers, params=params)
        )
        try:
            return await asyncio.wait_for(asyncio.shield(request), timeout_s)
        finally:
            if not request.done():
                self._abandoned.add(request)
                request.add_done_callback(self._forget)

    def _forget(self, request: asyncio.Task[httpx.Response]) -> None:
        self._abandoned.discard(request)
        if not request.cancelled():
            request.exception()  # retrieved: nobody waits for it any more

    async def close(self) -> None:
        """Requests still finishing in the background are cancelled: the clients close next."""
        for request in list(self._abandoned):
            request.cancel()
        await asyncio.gather(*self._abandoned, return_exceptions=True)

    def build(self, service: str, method: str, url: str, **kwargs) -> httpx.Request:  # type: ignore[no-untyped-def]
        return self.clients[service].build_request(method, url, **kwargs)

    async def get_json(
        self, service: str, path: str, *, headers: Mapping[str, str], params=None
    ) -> httpx.Response:  # type: ignore[no-untyped-def]
        return await self.request(
            service, self.build(service, "GET", path, headers=dict(headers), params=params)
        )


def base_urls(settings: GatewaySettings) -> dict[str, str]:
    return {
        "roster": settings.roster_url,
        "metrics": settings.metrics_url,
        "care": settings.care_url,
    }


TransportFactory = Callable[[str], httpx.AsyncBaseTransport]


def default_transport(settings: GatewaySettings) -> TransportFactory:
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=settings.upstream_max_connections,
    )
    if settings.upstream_transport == "aiohttp":
        return lambda service: AiohttpTransport(limits=limits)
    return lambda service: httpx.AsyncHTTPTransport(limits=limits)


def upstreams_resource(
    settings: GatewaySettings, transport: TransportFactory | None = None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The lifespan resource that opens (and closes) one client per service."""
    make_transport = transport or default_transport(settings)

    @contextlib.asynccontextmanager
    async def open_clients(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s
        )
        async with contextlib.AsyncExitStack() as stack:
            clients = {
                name: await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, timeout=timeout, transport=make_transport(name))
                )
                for name, url in base_urls(settings).items()
            }
            upstreams = Upstreams(clients, settings.upstream_read_retries)
            app.state.upstreams = upstreams
            try:
                yield
            finally:
                await upstreams.close()

    return open_clients
