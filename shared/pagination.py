"""Cursor pagination (``limit`` + opaque ``cursor``) for every list endpoint.

The cursor encodes the sort key of the last item returned, so pages stay stable while rows are
inserted, and a page costs an index range scan however deep the client goes.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel

from shared.errors import ValidationFailed

T = TypeVar("T")

MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    after: list[Any] | None

    def page(self, rows: list[Any], key: Any) -> tuple[list[Any], str | None]:
        """Trim the ``limit + 1`` rows a query fetched; the extra row proves a next page."""
        if len(rows) <= self.limit:
            return rows, None
        rows = rows[: self.limit]
        return rows, encode_cursor(key(rows[-1]))


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise ValidationFailed(
            "cursor is not a cursor this API returned",
            errors=[{"field": "query.cursor", "message": "invalid cursor", "type": "cursor"}],
        ) from None
    if not isinstance(values, list):
        raise ValidationFailed("cursor is not a cursor this API returned")
    return values


async def page_params(  # async: a plain def dependency costs every list request a thread hop
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]
