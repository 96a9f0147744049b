from __future__ import annotations

from pydantic import BaseModel, Field


class TokenRequest(BaseModel):
    employee_no: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    person_id: str
    role: str
    team_ids: list[str]


class Me(BaseModel):
    person_id: str
    role: str
    team_ids: list[str]
