"""API keys: admins create, list and revoke them; CTI systems authenticate with them.

Lookups are cached per process for ``api_key_cache_ttl_s`` (default 1 s) so a busy CTI feed
does not cost a query per request; a revocation drops the key from this process's cache at
once and from every other replica's within that TTL. ``last_used_at`` is written at most once
per ``api_key_last_used_every_s`` per key and process, never on every request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.apikeys import keys
from services.gateway.apikeys.models import ApiKey
from services.gateway.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from shared.auth import Principal
from shared.errors import NotFound
from shared.pagination import PageParams


@dataclass(frozen=True, slots=True)
class IngestKey:
    """An active key that authenticated a request."""

    id: str
    name: str
    source: str


async def create(session: AsyncSession, admin: Principal, data: ApiKeyCreate) -> ApiKeyCreated:
    secret = keys.new_key()
    row = ApiKey(
        name=data.name,
        source=data.source,
        prefix=keys.display_prefix(secret),
        secret_hash=keys.digest(secret),
        created_by=admin.id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=secret)


async def list_keys(
    session: AsyncSession, page: PageParams, *, revoked: bool | None
) -> tuple[list[ApiKeyRead], str | None]:
    query = select(ApiKey)
    if revoked is not None:
        query = query.where(
            ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None)
        )
    if page.after:
        query = query.where(ApiKey.id < page.after[0])
    query = query.order_by(ApiKey.id.desc()).limit(page.limit + 1)
    rows, cursor = page.page(list(await session.scalars(query)), key=lambda k: [k.id])
    return [ApiKeyRead.model_validate(r) for r in rows], cursor


async def revoke(session: AsyncSession, admin: Principal, key_id: str) -> ApiKeyRead:
    """Idempotent: revoking a revoked key keeps its first revocation."""
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise NotFound("No such API key.")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        row.revoked_by = admin.id
        await session.flush()
    return ApiKeyRead.model_validate(row)


async def find_active(session: AsyncSession, digest: bytes) -> IngestKey | None:
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.source).where(
                ApiKey.secret_hash == digest, ApiKey.revoked_at.is_(None)
            )
        )
    ).one_or_none()
    return IngestKey(row.id, row.name, row.source) if row is not None else None


async def record_use(session: AsyncSession, cache: KeyCache, key_id: str) -> None:
    """Note an accepted ingest in ``last_used_at``, when this process has not lately."""
    if cache.use_record_due(key_id):
        await session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=func.now())
        )


@dataclass(slots=True)
class _Cached:
    key: IngestKey
    expires: float


class KeyCache:
    """Per-process memory of recent key lookups and of when each key's use was last written."""

    def __init__(
        self,
        *,
        ttl_s: float,
        use_record_every_s: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._use_every_s = use_record_every_s
        self._max_keys = max_keys
        self._clock = clock
        self._by_digest: OrderedDict[bytes, _Cached] = OrderedDict()
        self._use_recorded: dict[str, float] = {}

    async def authenticate(self, session: AsyncSession, presented: str) -> IngestKey | None:
        """The active key ``presented`` is, or None (unknown or revoked keys are not cached)."""
        digest = keys.digest(presented)
        now = self._clock()
        cached = self._by_digest.get(digest)
        if cached is not None and cached.expires > now:
            return cached.key
        key = await find_active(session, digest)
        if key is None:
            self._by_digest.pop(digest, None)
            return None
        self._by_digest[digest] = _Cached(key, now + self._ttl_s)
        self._by_digest.move_to_end(digest)
        if len(self._by_digest) > self._max_keys:
            self._by_digest.popitem(last=False)
        return key

    def forget(self, key_id: str) -> None:
        for digest in [d for d, c in self._by_digest.items() if c.key.id == key_id]:
            del self._by_digest[digest]

    def use_record_due(self, key_id: str) -> bool:
        """True (and noted) when this key's ``last_used_at`` should be written now."""
        now = self._clock()
        last = self._use_recorded.get(key_id)
        if last is not None and now - last < self._use_every_s:
            return False
        self._use_recorded[key_id] = now
        return True
