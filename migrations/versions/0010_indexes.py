"""indexes for pages at statewide scale

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # A foreign key without an index: deleting or looking up a transition read every deadline.
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_transition_id'), ['transition_id'], unique=False)
    # Agreements by state, newest first (the home page's followed lists, what awaits someone).
    op.create_index('ix_agreement_state_id', 'agreement', ['state', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_agreement_state_id', table_name='agreement')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_transition_id'))
