"""Every event type CallPulse produces or consumes, and the topic each one travels on."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    CTI_EVENTS = "cti.events"
    ROSTER_CHANGES = "roster.changes"
    METRICS_SIGNALS = "metrics.signals"
    CARE_EVENTS = "care.events"

    @property
    def dlq(self) -> str:
        return f"{self.value}.dlq"


class EventType(StrEnum):
    # CTI (DESIGN §3), topic cti.events
    AGENT_LOGGED_IN = "cti.agent.logged_in"
    AGENT_LOGGED_OUT = "cti.agent.logged_out"
    AGENT_STATE_CHANGED = "cti.agent.state_changed"
    CALL_OFFERED = "cti.call.offered"
    CALL_ANSWERED = "cti.call.answered"
    CALL_HELD = "cti.call.held"
    CALL_RESUMED = "cti.call.resumed"
    CALL_ENDED = "cti.call.ended"
    CALL_WRAPUP_ENDED = "cti.call.wrapup_ended"
    CALL_ABANDONED = "cti.call.abandoned"
    CALL_TAGGED = "cti.call.tagged"
    SURVEY_COMPLETED = "cti.survey.completed"
    QA_EVALUATION_COMPLETED = "qa.evaluation.completed"
    COMPLAINT_RECEIVED = "cti.complaint.received"
    # roster, topic roster.changes
    PERSON_CREATED = "roster.person.created"
    PERSON_UPDATED = "roster.person.updated"
    PERSON_DEPARTED = "roster.person.departed"
    TEAM_CHANGED = "roster.team.changed"
    MENTORSHIP_STARTED = "roster.mentorship.started"
    MENTORSHIP_ENDED = "roster.mentorship.ended"
    SCHEDULE_PUBLISHED = "roster.schedule.published"
    LEAVE_DECIDED = "roster.leave.decided"
    # metrics, topic metrics.signals
    SIGNAL_RAISED = "metrics.signal.raised"
    # care, topic care.events
    CARE_RECORD_CREATED = "care.record.created"
    CARE_BREAK_GRANTED = "care.care_break.granted"
    CARE_TASK_OPENED = "care.task.opened"
    CARE_TASK_CLOSED = "care.task.closed"

    @property
    def topic(self) -> Topic:
        if self.value.startswith(("cti.", "qa.")):
            return Topic.CTI_EVENTS
        if self.value.startswith("roster."):
            return Topic.ROSTER_CHANGES
        if self.value.startswith("metrics."):
            return Topic.METRICS_SIGNALS
        if self.value.startswith("care."):
            return Topic.CARE_EVENTS
        raise ValueError(f"no topic for {self.value}")  # pragma: no cover - exhaustive above
