"""ivr: a registration by voice keeps the recorded name, to be confirmed at the center

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the recording URL and the "name confirmed" flag to beneficiaries."""
    with op.batch_alter_table('beneficiaries') as batch:
        batch.add_column(sa.Column('name_recording_url', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('name_confirmed', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table('beneficiaries') as batch:
        batch.drop_column('name_confirmed')
        batch.drop_column('name_recording_url')
