"""geo: India Post's PIN-code directory (states, districts, PIN codes with a point each),
loaded from gateway/geo/data; centers get a point (from their PIN code, or an admin's)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from gateway.geo import loader


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    states = op.create_table('geo_states',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    districts = op.create_table('geo_districts',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['state_id'], ['geo_states.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state_id', 'name', name='uq_geo_district')
    )
    op.create_index(op.f('ix_geo_districts_state_id'), 'geo_districts', ['state_id'], unique=False)
    pincodes = op.create_table('geo_pincodes',
    sa.Column('pincode', sa.String(length=6), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('locality', sa.String(length=60), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['geo_districts.id'], ),
    sa.PrimaryKeyConstraint('pincode', 'district_id')
    )
    op.create_index(op.f('ix_geo_pincodes_district_id'), 'geo_pincodes', ['district_id'], unique=False)
    source = op.create_table('geo_source',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
    # the bundled directory, so that every database can check PIN codes from the start
    op.bulk_insert(states, loader.read_states())
    op.bulk_insert(districts, loader.read_districts())
    op.bulk_insert(pincodes, loader.read_pincodes())
    op.bulk_insert(source, loader.source_rows())
    op.execute("UPDATE centers SET"
               " latitude = (SELECT g.latitude FROM geo_pincodes g"
               "             WHERE g.pincode = centers.pincode AND g.is_primary),"
               " longitude = (SELECT g.longitude FROM geo_pincodes g"
               "              WHERE g.pincode = centers.pincode AND g.is_primary)")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
    op.drop_table('geo_source')
    op.drop_index(op.f('ix_geo_pincodes_district_id'), table_name='geo_pincodes')
    op.drop_table('geo_pincodes')
    op.drop_index(op.f('ix_geo_districts_state_id'), table_name='geo_districts')
    op.drop_table('geo_districts')
    op.drop_table('geo_states')
