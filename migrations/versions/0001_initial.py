"""cases, case entries, staff accounts, audit log, events

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-06 13:48:27.976300
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('staff', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('person', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.Text(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('safe_to_text', sa.String(length=8), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('closed_at', sa.Float(), nullable=False),
    sa.Column('reminded_at', sa.Float(), nullable=False),
    sa.Column('waiting_since', sa.Float(), nullable=False),
    sa.Column('claimed_at', sa.Float(), nullable=False),
    sa.Column('first_reply_at', sa.Float(), nullable=False),
    sa.Column('last_user_at', sa.Float(), nullable=False),
    sa.Column('last_staff_at', sa.Float(), nullable=False),
    sa.Column('safe_to_text_at', sa.Float(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_cases_expires_at', ['expires_at'], unique=False)
        batch_op.create_index('ix_cases_person', ['person', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_status', ['status'], unique=False)
        batch_op.create_index('uq_cases_active_person', ['person'], unique=True, sqlite_where=sa.text("status IN ('open', 'claimed') AND person != ''"), postgresql_where=sa.text("status IN ('open', 'claimed') AND person != ''"))

    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('hour', sa.Float(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('detail', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=24), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_day_kind', ['day', 'kind'], unique=False)

    op.create_table('staff_accounts',
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('languages', sa.String(length=128), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('case_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_entries', schema=None) as batch_op:
        batch_op.create_index('ix_case_entries_case', ['case_id', 'kind', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_case_entries_case')

    op.drop_table('case_entries')
    op.drop_table('staff_accounts')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_day_kind')

    op.drop_table('events')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('uq_cases_active_person', sqlite_where=sa.text("status IN ('open', 'claimed') AND person != ''"), postgresql_where=sa.text("status IN ('open', 'claimed') AND person != ''"))
        batch_op.drop_index('ix_cases_status')
        batch_op.drop_index('ix_cases_person')
        batch_op.drop_index('ix_cases_expires_at')
        batch_op.drop_index('ix_cases_created_at')

    op.drop_table('cases')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
