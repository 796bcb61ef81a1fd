"""programs, reallocations, site visits, agency closure

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import portal.models.types

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    dt = portal.models.types.UTCDateTime()
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", portal.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))

    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("funding_source", sa.String(length=200), nullable=False),
        sa.Column("hud_grant_number", sa.String(length=60), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("created_at", dt, nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("ended_at", dt, nullable=True),
        sa.Column("ended_reason", sa.Text(), nullable=False),
        sa.Column("reallocated_from_id", sa.Integer(), sa.ForeignKey("program.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_program_agency_id", "program", ["agency_id"])

    op.create_table(
        "reallocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False, unique=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("acquiring_agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("program_id", sa.Integer(), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("new_program_id", sa.Integer(), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", dt, nullable=False),
        sa.Column("opened_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("due_at", dt, nullable=False),
        sa.Column("due_rule_text", sa.String(length=200), nullable=False),
        sa.Column("delivered_count", sa.Integer(), nullable=True),
        sa.Column("delivered_method", sa.String(length=40), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("delivered_note", sa.Text(), nullable=False),
        sa.Column("delivered_at", dt, nullable=True),
        sa.Column("delivered_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("attachment", sa.JSON(), nullable=True),
        sa.Column("received_at", dt, nullable=True),
        sa.Column("received_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=True),
        sa.Column("releasing_signed_at", dt, nullable=True),
        sa.Column("releasing_signed_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("acquiring_signed_at", dt, nullable=True),
        sa.Column("acquiring_signed_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reallocation_agency_id", "reallocation", ["agency_id"])
    op.create_index("ix_reallocation_acquiring_agency_id", "reallocation", ["acquiring_agency_id"])

    op.create_table(
        "site_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False, unique=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("visit_at", dt, nullable=False),
        sa.Column("visitors", sa.Text(), nullable=False),
        sa.Column("created_at", dt, nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("closed_at", dt, nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_visit_agency_id", "site_visit", ["agency_id"])

    op.create_table(
        "site_visit_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("site_visit.id"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", dt, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_visit_finding_visit_id", "site_visit_finding", ["visit_id"])


def downgrade():
    op.drop_index("ix_site_visit_finding_visit_id", table_name="site_visit_finding")
    op.drop_table("site_visit_finding")
    op.drop_index("ix_site_visit_agency_id", table_name="site_visit")
    op.drop_table("site_visit")
    op.drop_index("ix_reallocation_acquiring_agency_id", table_name="reallocation")
    op.drop_index("ix_reallocation_agency_id", table_name="reallocation")
    op.drop_table("reallocation")
    op.drop_index("ix_program_agency_id", table_name="program")
    op.drop_table("program")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("closed_at")
