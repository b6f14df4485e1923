"""sms ledger: when each queued message is next tried, and how many rounds it has failed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('retries', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_index('ix_sms_messages_status_kind_next',
                              ['status', 'kind', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_messages_status_kind_next')
        batch_op.drop_column('retries')
        batch_op.drop_column('next_attempt_at')
