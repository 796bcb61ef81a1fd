"""job_run: when each scheduler job last ran (health check, weekly document check)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('started_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_run'))
    )


def downgrade():
    op.drop_table('job_run')
