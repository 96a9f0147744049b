"""The roster service: people, teams, skills, certifications, mentorships, schedules, leave."""

from __future__ import annotations

from fastapi import FastAPI

from services.roster.auth.router import router as auth_router
from services.roster.db import OutboxMessage
from services.roster.leave.router import router as leave_router
from services.roster.mentorships.router import router as mentorships_router
from services.roster.people.router import router as people_router
from services.roster.preferences.router import router as preferences_router
from services.roster.schedules.router import router as schedules_router
from services.roster.settings import RosterSettings
from services.roster.teams.router import router as teams_router
from shared.app import ServiceSpec, create_service_app
from shared.events.types import Topic


def create_app(settings: RosterSettings | None = None) -> FastAPI:
    return create_service_app(
        ServiceSpec(
            name="roster",
            settings=settings or RosterSettings(),
            description=__doc__ or "",
            routers=[
                auth_router,
                people_router,
                preferences_router,
                teams_router,
                mentorships_router,
                schedules_router,
                leave_router,
            ],
            outbox_model=OutboxMessage,
            produces=[Topic.ROSTER_CHANGES],
        )
    )
