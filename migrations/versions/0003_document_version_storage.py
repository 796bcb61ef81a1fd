"""document_version: the storage's version id of each stored version, and its full retention

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_version_id', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('retained_until', portal.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.drop_column('retained_until')
        batch_op.drop_column('storage_version_id')
