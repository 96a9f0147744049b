"""partial index of surveys per agent and time

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cti_events_surveys",
        "cti_events",
        ["agent_id", "time", "event_id"],
        postgresql_where=sa.text("type = 'cti.survey.completed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_cti_events_surveys", table_name="cti_events")
