"""sessions not tied to a process: each running session's next moment and a version for cached copies;
an index on pain_scores.session_id (deleting a session must not read every score)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("guided_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.create_index(
            "ix_guided_sessions_due", ["next_at"], unique=False, sqlite_where=RUNNING, postgresql_where=RUNNING
        )
    with op.batch_alter_table("pain_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pain_scores_session_id"), ["session_id"], unique=False)
    # sessions left running by an older release go on at once
    op.execute("UPDATE guided_sessions SET next_at = started_at WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("pain_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pain_scores_session_id"))
    with op.batch_alter_table("guided_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_guided_sessions_due", sqlite_where=RUNNING, postgresql_where=RUNNING)
        batch_op.drop_column("version")
        batch_op.drop_column("next_at")
