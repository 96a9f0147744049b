"""Canonical CTI payloads (DESIGN §3). ``data`` always carries the ids it mentions."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.events.envelope import EventData

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class AgentEvent(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    agent_id: Id


class AgentLoggedIn(AgentEvent):
    """Session starts; the agent is available unless ``state``/``reason`` say otherwise."""

    state: Literal["available", "aux"] | None = None
    reason: Reason | None = None


class AgentLoggedOut(AgentEvent):
    pass


class AgentStateChanged(AgentEvent):
    state: Literal["available", "aux"]
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reason_only_for_aux(self) -> AgentStateChanged:
        if self.state == "aux" and not self.reason:
            raise ValueError("reason is required when state is aux")
        if self.state == "available" and self.reason:
            raise ValueError("reason is only allowed when state is aux")
        return self


class QueueCallEvent(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("call_id",)
    call_id: Id
    queue_id: Id


class CallOffered(QueueCallEvent):
    pass


class CallAbandoned(QueueCallEvent):
    pass


class AgentCallEvent(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("agent_id", "call_id")
    call_id: Id
    agent_id: Id


class CallAnswered(AgentCallEvent):
    queue_id: Id


class CallHeld(AgentCallEvent):
    pass


class CallResumed(AgentCallEvent):
    pass


class CallEnded(AgentCallEvent):
    pass


class CallWrapupEnded(AgentCallEvent):
    pass


class CallTagged(AgentCallEvent):
    tags: list[Reason] = Field(min_length=1, max_length=20)


class SurveyCompleted(AgentCallEvent):
    csat: int = Field(ge=1, le=5)
    fcr: bool | None = None


class QaEvaluationCompleted(AgentCallEvent):
    score: float = Field(ge=0, le=100)
    errors: list[Reason] = Field(default_factory=list, max_length=50)


class ComplaintReceived(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    call_id: Id | None = None
    agent_id: Id
    severity: Literal["low", "medium", "high", "critical"]
    escalated: bool = False
