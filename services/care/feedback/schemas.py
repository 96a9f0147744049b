"""Feedback payloads. None of them has a field for the author, in or out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

FeedbackScope = Literal["team", "center"]

Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class FeedbackCreate(BaseModel):
    scope: FeedbackScope
    topic: Topic | None = None
    body: Text


class FeedbackReceipt(BaseModel):
    """What the submitter gets back: the entry as filed, nothing about them."""

    id: str
    scope: FeedbackScope
    team_id: str | None
    topic: str | None
    submitted_on: date


class FeedbackRead(FeedbackReceipt):
    body: str
    response: str | None
    responded_by: str | None
    responded_at: datetime | None


class FeedbackRespond(BaseModel):
    response: Text


class FeedbackList(BaseModel):
    """``entries`` counts every entry of the scope; ``items`` stay empty until it reaches
    ``threshold`` (``visible``)."""

    scope: FeedbackScope
    team_id: str | None
    entries: int
    threshold: int
    visible: bool
    items: list[FeedbackRead]
    next_cursor: str | None = None
