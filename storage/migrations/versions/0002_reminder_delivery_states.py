"""reminder delivery states: retries (not_before, attempts) and a status index the hot queries use

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status IN ('claimed', 'snoozed')")


def upgrade() -> None:
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.drop_index("ix_reminder_deliveries_pending", sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.create_index("ix_reminder_deliveries_status_due", ["status", "due_at"], unique=False)
    # Before this revision a crash left rows in 'sending'; they may have arrived: never send them again.
    op.execute("UPDATE reminder_deliveries SET status = 'unknown' WHERE status = 'sending'")


def downgrade() -> None:
    op.execute("UPDATE reminder_deliveries SET status = 'failed' WHERE status = 'unknown'")
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_deliveries_status_due")
        batch_op.create_index(
            "ix_reminder_deliveries_pending",
            ["due_at"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
        batch_op.drop_column("attempts")
        batch_op.drop_column("not_before")
