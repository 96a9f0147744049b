"""person departure reason

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people", sa.Column("departure_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("people", "departure_reason")
