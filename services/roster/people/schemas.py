from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

PASSWORD_MIN_LENGTH = 10

Role = Literal["agent", "team_lead", "manager", "qa", "trainer", "ops", "admin"]
Status = Literal["onboarding", "active", "on_leave", "departed"]
Colour = Literal["red", "blue", "yellow", "green"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
EmployeeNo = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-]+$"),
]


class Skill(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    skill: Key
    level: int = Field(ge=1, le=5)


class CertificationIn(BaseModel):
    name: Key
    passed_at: date
    expires_at: date | None = None

    @model_validator(mode="after")
    def _expiry_after_pass(self) -> CertificationIn:
        if self.expires_at is not None and self.expires_at < self.passed_at:
            raise ValueError("expires_at must not be before passed_at")
        return self


class CertificationRead(CertificationIn):
    model_config = ConfigDict(from_attributes=True)

    id: str


def _unique_skills(skills: list[Skill] | None) -> list[Skill] | None:
    if skills is not None and len({s.skill for s in skills}) != len(skills):
        raise ValueError("each skill may appear once")
    return skills


class PersonFields(BaseModel):
    email: Email | None = None
    team_id: str | None = None
    hire_date: date | None = None
    personality_colour: Colour | None = None
    external_ids: dict[Key, ExternalId] | None = Field(
        default=None,
        description='CTI ids by source, e.g. {"asterisk": "Agent/1001"}; unique per source.',
    )
    skills: list[Skill] | None = None
    certifications: list[CertificationIn] | None = None

    _skills = field_validator("skills")(_unique_skills)


class PersonCreate(PersonFields):
    employee_no: EmployeeNo
    name: Name
    role: Role
    status: Literal["onboarding", "active", "on_leave"] = "onboarding"


class PersonUpdate(PersonFields):
    """Only the fields present are changed; nested lists are replaced wholesale."""

    name: Name | None = None
    role: Role | None = None
    status: Literal["onboarding", "active", "on_leave"] | None = Field(
        default=None, description="Departure goes through POST /v1/people/{id}/depart."
    )


class PersonRead(BaseModel):
    id: str
    employee_no: str
    name: str
    email: str | None
    role: Role
    team_id: str | None
    hire_date: date | None
    status: Status
    personality_colour: Colour | None = Field(
        description="Team-leader aid: shown to the person's leads, managers and admins only."
    )
    external_ids: dict[str, str]
    skills: list[Skill]
    certifications: list[CertificationRead]
    departed_at: datetime | None
    departure_reason: str | None = Field(
        description="Shown to the person's leads, managers and admins only."
    )
    created_at: datetime
    updated_at: datetime


class DepartRequest(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = (
        Field(default=None, description="Why the person left (resignation, end of contract …).")
    )


class PasswordSet(BaseModel):
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=200)
