"""admin users: a session epoch, so sign-out and deactivation end sessions on the server

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
