"""admin users and api keys: the state of their district, so that a district name two states
share (Aurangabad, Bilaspur...) scopes one of them; filled from the directory where the
name is in one state only, left NULL (shown as "state not set") otherwise

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ('admin_users', 'api_keys')


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('state', sa.String(length=40), nullable=True))
        op.execute(f"UPDATE {table} SET state = ("
                   " SELECT s.name FROM geo_districts d JOIN geo_states s ON s.id = d.state_id"
                   f" WHERE d.name = {table}.district)"
                   f" WHERE district IS NOT NULL AND (SELECT count(*) FROM geo_districts d"
                   f"  WHERE d.name = {table}.district) = 1")


def downgrade() -> None:
    """Downgrade schema."""
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('state')
