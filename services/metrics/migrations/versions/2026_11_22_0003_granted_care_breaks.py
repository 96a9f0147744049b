"""granted care breaks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "granted_care_breaks",
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_granted_care_breaks")),
    )
    op.create_index("ix_granted_care_breaks_agent", "granted_care_breaks", ["agent_id", "start_us"])


def downgrade() -> None:
    op.drop_index("ix_granted_care_breaks_agent", table_name="granted_care_breaks")
    op.drop_table("granted_care_breaks")
