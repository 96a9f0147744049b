from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Kind = Literal[
    "one_on_one",
    "coaching",
    "care_action",
    "recognition",
    "warning",
    "training_referral",
    "mentoring_session",
]
Category = Literal["career", "needs", "wellbeing"]
CareAction = Literal[
    "care_break", "workload_relief", "flexible_shift", "counselling_referral", "other"
]

Text = Field(min_length=1, max_length=4000)


class CoachingNote(BaseModel):
    """Facts, not judgements: what was seen, its effect, the need behind it, what was agreed."""

    observation: str | None = Field(
        default=None,
        max_length=4000,
        description="A fact, e.g. 'joined the 9:00 briefing after it started on 3 days'",
    )
    impact: str | None = Field(default=None, max_length=4000)
    need: str | None = Field(default=None, max_length=4000)
    request: str | None = Field(default=None, max_length=4000, description="What was agreed")
    follow_up_at: AwareDatetime | None = None


class RecordCreate(CoachingNote):
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(min_length=1, max_length=36)
    kind: Kind
    category: Category | None = Field(
        default=None, description="career, needs or wellbeing; defaults by kind"
    )
    action: CareAction | None = Field(default=None, description="Required for care_action")
    summary: str = Text
    private_notes: str | None = Field(
        default=None, max_length=8000, description="Never shown to the agent"
    )
    occurred_at: AwareDatetime | None = Field(default=None, description="Defaults to now")
    break_minutes: int | None = Field(default=None, ge=1, le=240)
    signal_id: str | None = Field(default=None, max_length=200)
    task_id: str | None = Field(default=None, max_length=36)
    previous_record_id: str | None = Field(default=None, max_length=36)
    prior_conversation_id: str | None = Field(
        default=None,
        max_length=36,
        description="Required for a warning: a one-on-one or coaching in the 14 days before",
    )


class CareBreakGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(min_length=1, max_length=36)
    minutes: int | None = Field(default=None, ge=1, le=240, description="Defaults to 15")
    start: AwareDatetime | None = Field(default=None, description="Defaults to now")
    task_id: str | None = Field(default=None, max_length=36)
    summary: str | None = Field(default=None, max_length=4000)
    private_notes: str | None = Field(default=None, max_length=8000)


class RecordRead(CoachingNote):
    id: str
    agent_id: str
    team_id: str | None
    author_id: str
    kind: Kind
    category: Category
    action: CareAction | None
    summary: str
    private_notes: str | None = Field(description="Only for the agent's leads and managers")
    occurred_at: datetime
    break_minutes: int | None
    signal_id: str | None
    task_id: str | None
    previous_record_id: str | None
    prior_conversation_id: str | None
    created_at: datetime
