"""Admins manage the CTI systems' API keys. Everyone else gets 403: that the key list exists
is public, and no key's existence is revealed (the role is checked before any lookup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from services.gateway.apikeys import service
from services.gateway.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from services.gateway.door import User
from shared.app import SessionDep
from shared.auth import Principal, Role
from shared.errors import Forbidden
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/cti/api-keys", tags=["cti: api keys"])


async def require_admin(user: User) -> Principal:
    if user.role != Role.ADMIN:
        raise Forbidden("Only admins manage API keys.")
    return user


Admin = Annotated[Principal, Depends(require_admin)]


@router.post("", status_code=201, summary="Create a key for one CTI source (shown this once)")
async def create_key(body: ApiKeyCreate, session: SessionDep, admin: Admin) -> ApiKeyCreated:
    return await service.create(session, admin, body)


@router.get("", summary="Keys, newest first (never their secrets)")
async def list_keys(
    session: SessionDep,
    admin: Admin,
    page: PageDep,
    revoked: Annotated[bool | None, Query(description="Only revoked, or only active, keys")] = None,
) -> Page[ApiKeyRead]:
    items, cursor = await service.list_keys(session, page, revoked=revoked)
    return Page(items=items, next_cursor=cursor)


@router.post("/{key_id}/revoke", summary="Revoke a key: it stops working at once (idempotent)")
async def revoke_key(
    key_id: Annotated[str, Path(max_length=36, pattern=r"^[0-9A-Za-z-]+$")],
    request: Request,
    session: SessionDep,
    admin: Admin,
) -> ApiKeyRead:
    revoked = await service.revoke(session, admin, key_id)
    request.app.state.api_keys.forget(key_id)
    return revoked
