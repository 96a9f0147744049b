"""Every gateway table, imported in one place for Alembic and the tests."""

from services.gateway.apikeys.models import ApiKey
from services.gateway.cti.identities.models import CtiIdentity, CtiPerson
from services.gateway.db import Base, InboxMessage

__all__ = ["ApiKey", "Base", "CtiIdentity", "CtiPerson", "InboxMessage"]
