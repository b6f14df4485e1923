"""sms delivery reports: whether one was asked for, its verdict, the provider a re-send tries last

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sms_send_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_requested', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('report_verdict', sa.String(length=12), nullable=True))
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('try_last', sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_column('try_last')
    with op.batch_alter_table('sms_send_attempts', schema=None) as batch_op:
        batch_op.drop_column('report_verdict')
        batch_op.drop_column('report_requested')
