from logging.config import fileConfig

from alembic import context

from services.gateway.models import Base
from services.gateway.settings import GatewaySettings
from shared.migrations import run_migrations

if context.config.config_file_name and not context.config.attributes.get("connection"):
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(Base.metadata, GatewaySettings())
