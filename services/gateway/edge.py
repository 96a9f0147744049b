"""Edge protection: CORS for web clients, security headers on every response, and rate limits
per user and per API key (429 with ``Retry-After``).

Limits are token buckets kept in this process: with N gateway replicas a client gets up to N
times the rate, which is the usual trade for not putting a shared store on every request.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.settings import GatewaySettings
from shared.errors import TooManyRequests

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"geolocation=(), camera=(), microphone=()",
    b"cross-origin-opener-policy": b"same-origin",
}
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
"""JSON never needs to load anything; the interactive docs (``/docs``) keep FastAPI's page."""


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/redoc") or scope["path"].startswith("/docs/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k not in SECURITY_HEADERS
                ]
                headers += list(SECURITY_HEADERS.items())
                if not docs:
                    headers.append((b"content-security-policy", API_CSP))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets: ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token; returns 0, or the seconds until one is available (refused)."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket  # most recently used last
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def check(self, key: str, what: str) -> None:
        wait = self.take(key)
        if wait > 0:
            raise TooManyRequests(
                f"Too many requests for this {what}; slow down.", retry_after_s=math.ceil(wait)
            )


@dataclass
class Limits:
    users: RateLimiter
    api_keys: RateLimiter
    anonymous: RateLimiter


def install(app: FastAPI, settings: GatewaySettings) -> None:
    app.state.limits = Limits(
        users=RateLimiter(settings.rate_limit_user_per_minute, settings.rate_limit_user_burst),
        api_keys=RateLimiter(
            settings.rate_limit_api_key_per_minute, settings.rate_limit_api_key_burst
        ),
        anonymous=RateLimiter(
            settings.rate_limit_anonymous_per_minute, settings.rate_limit_anonymous_burst
        ),
    )
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Last-Event-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Location"],
            max_age=600,
        )
