"""Running a service's migrations in-process leaves the application's loggers working."""

from __future__ import annotations

import logging
from typing import Any


async def test_migrations_do_not_disable_existing_loggers(migrated_database: Any) -> None:
    access = logging.getLogger("access")
    await migrated_database("care", suffix="_logging")
    assert not access.disabled
