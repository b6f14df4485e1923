"""health workers, their audit trail, and the upstream outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('health_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('failed_pins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phone')
    )
    with op.batch_alter_table('health_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_workers_center_id'), ['center_id'], unique=False)

    op.create_table('health_worker_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['worker_id'], ['health_workers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('health_worker_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_worker_actions_worker_id'), ['worker_id'], unique=False)

    op.create_table('upstream_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('upstream_events', schema=None) as batch_op:
        batch_op.create_index('ix_upstream_events_status_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_upstream_events_beneficiary', ['beneficiary_id', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('upstream_events', schema=None) as batch_op:
        batch_op.drop_index('ix_upstream_events_beneficiary')
        batch_op.drop_index('ix_upstream_events_status_due')
    op.drop_table('upstream_events')
    with op.batch_alter_table('health_worker_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_worker_actions_worker_id'))
    op.drop_table('health_worker_actions')
    with op.batch_alter_table('health_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_workers_center_id'))
    op.drop_table('health_workers')
