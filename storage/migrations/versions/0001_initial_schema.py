"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('first_name', sa.String(length=128), nullable=False),
    sa.Column('language_code', sa.String(length=16), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('reminder_time', sa.String(length=5), nullable=True),
    sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('break_until', sa.Date(), nullable=True),
    sa.Column('break_started', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_next_reminder_at'), ['next_reminder_at'], unique=False)

    op.create_table('exercise_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('exercise_id', sa.String(length=60), nullable=False),
    sa.Column('hurt_count', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exercise_flags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_flags')),
    sa.UniqueConstraint('user_id', 'exercise_id', name=op.f('uq_exercise_flags_user_id'))
    )
    with op.batch_alter_table('exercise_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_flags_user_id'), ['user_id'], unique=False)

    op.create_table('guided_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('exercises_total', sa.SmallInteger(), nullable=False),
    sa.Column('exercises_done', sa.SmallInteger(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_guided_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guided_sessions'))
    )
    with op.batch_alter_table('guided_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guided_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_guided_sessions_live_user', ['user_id'], unique=True, sqlite_where=sa.text("status IN ('running', 'paused')"), postgresql_where=sa.text("status IN ('running', 'paused')"))

    op.create_table('reminder_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    sa.UniqueConstraint('user_id', 'local_date', name=op.f('uq_reminder_deliveries_user_id'))
    )
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_deliveries_pending', ['due_at'], unique=False, sqlite_where=sa.text("status IN ('claimed', 'snoozed')"), postgresql_where=sa.text("status IN ('claimed', 'snoozed')"))

    op.create_table('pain_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['guided_sessions.id'], name=op.f('fk_pain_scores_session_id_guided_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pain_scores_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pain_scores'))
    )
    with op.batch_alter_table('pain_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pain_scores_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pain_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pain_scores_user_id'))

    op.drop_table('pain_scores')
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_deliveries_pending', sqlite_where=sa.text("status IN ('claimed', 'snoozed')"), postgresql_where=sa.text("status IN ('claimed', 'snoozed')"))

    op.drop_table('reminder_deliveries')
    with op.batch_alter_table('guided_sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_guided_sessions_live_user', sqlite_where=sa.text("status IN ('running', 'paused')"), postgresql_where=sa.text("status IN ('running', 'paused')"))
        batch_op.drop_index(batch_op.f('ix_guided_sessions_user_id'))

    op.drop_table('guided_sessions')
    with op.batch_alter_table('exercise_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_flags_user_id'))

    op.drop_table('exercise_flags')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_next_reminder_at'))

    op.drop_table('users')
