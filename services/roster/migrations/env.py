from logging.config import fileConfig

from alembic import context

from services.roster.models import Base
from services.roster.settings import RosterSettings
from shared.migrations import run_migrations

if context.config.config_file_name and not context.config.attributes.get("connection"):
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(Base.metadata, RosterSettings())
