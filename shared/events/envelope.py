"""The CloudEvents 1.0 envelope (structured JSON mode) every message on every topic uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.ids import new_id


class EventData(BaseModel):
    """Base of every typed payload. Extra fields from CTI systems are kept, never dropped."""

    model_config = ConfigDict(extra="allow", frozen=True)

    #: Fields whose first non-empty value is the Kafka partition key (DESIGN §2).
    key_fields: ClassVar[tuple[str, ...]] = ()

    def partition_key(self) -> str | None:
        for name in self.key_fields:
            value = getattr(self, name, None)
            if value:
                return str(value)
        return None


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event; ``id`` is the idempotency key, ``time`` the event time."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=new_id, min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=500)
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = Field(default=None, max_length=500)
    datacontenttype: Literal["application/json"] = "application/json"
    data: Any = None

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def key(self) -> str | None:
        """The partition key: the payload's preferred id, else the subject."""
        if isinstance(self.data, EventData):
            key = self.data.partition_key()
            if key:
                return key
        return self.subject

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))
