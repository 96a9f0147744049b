"""Every gateway table, imported in one place for Alembic and the tests."""

from services.gateway.apikeys.models import ApiKey
from services.gateway.db import Base

__all__ = ["ApiKey", "Base"]
