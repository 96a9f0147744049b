"""The gateway database: its declarative base (API keys)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
