"""reminders and waitlist: SMS opt-outs, reminder watermarks, waitlist entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = sa.text("status IN ('waiting', 'offered')")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('keyword', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone')
    )
    op.create_table('reminder_watermarks',
    sa.Column('offset_minutes', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('planned_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('offset_minutes')
    )
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('pincode', sa.String(length=6), nullable=False),
    sa.Column('age_group', sa.String(length=8), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offers', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], ),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiaries.id'], ),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_phone'), ['phone'], unique=False)
        batch_op.create_index('ix_waitlist_status_queued', ['status', 'queued_at'], unique=False)
        batch_op.create_index('uq_waitlist_active', ['beneficiary_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_active', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.drop_index('ix_waitlist_status_queued')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_phone'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_beneficiary_id'))

    op.drop_table('waitlist_entries')
    op.drop_table('reminder_watermarks')
    op.drop_table('sms_opt_outs')
