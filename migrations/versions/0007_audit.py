"""audit chain (hash of each audit entry and the one before)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types
from portal.services.audit_chain import GENESIS, HASHED, entry_hash


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# The types of the hashed columns that are not strings (for the backfill's reads and writes).
TYPES = {
    'seq': sa.Integer(),
    'actor_id': sa.Integer(),
    'object_id': sa.Integer(),
    'agency_id': sa.Integer(),
    'before': sa.JSON(),
    'after': sa.JSON(),
}


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    # The entries already written join the chain in the order they were written.
    bind = op.get_bind()
    event = sa.table(
        'audit_event',
        sa.column('id', sa.Integer()),
        sa.column('at', portal.models.types.UTCDateTime()),
        *(sa.column(name, TYPES.get(name, sa.String())) for name in HASHED if name != 'at'),
        sa.column('hash', sa.String()),
    )
    seq, prev = 0, GENESIS
    rows = bind.execute(sa.select(event).order_by(event.c.id)).mappings().all()
    for row in rows:
        seq += 1
        fields = dict(row, seq=seq, prev_hash=prev)
        prev = entry_hash(fields)
        bind.execute(
            event.update().where(event.c.id == row['id']).values(seq=seq, prev_hash=fields['prev_hash'], hash=prev)
        )
    op.get_bind().execute(
        sa.text('INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)'),
        {'seq': seq, 'hash': prev},
    )

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    op.drop_table('audit_chain_head')
