from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Source = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._~:@+\-]*(/[A-Za-z0-9._~:@+\-]+)*$",
    ),
]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=200, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
        ),
    ]
    source: Source = Field(
        description="The CTI source the key may send events for, e.g. cti/asterisk-1; events "
        "must carry this source or one under it (cti/asterisk-1/…)",
        examples=["cti/asterisk-1"],
    )


class ApiKeyRead(BaseModel):
    """A key as admins see it: never its secret or hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    source: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None = Field(
        description="Last accepted ingest with the key (recorded at most once a minute)"
    )


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(
        description="The key itself, shown this once: send it as X-API-Key. Store it now; "
        "only its hash is kept."
    )
